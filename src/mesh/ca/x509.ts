// @peculiar/x509 resolves its crypto provider through tsyringe, which needs the Reflect metadata polyfill
// loaded first. Every module here imports x509 through this file so the order cannot be got wrong.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
