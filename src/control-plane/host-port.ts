/** A Service (or an agent Gateway) annotated with this is also reachable on that port of the host's loopback. */
export const HOST_PORT_ANNOTATION = 'trustusbank.io/host-port';
