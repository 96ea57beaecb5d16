// The entry of every rug-pull variant's build: the variant is the `variant.json` its image carries.
import { runWorkloadMain } from '../../lib/workload.ts';
import { readBakedVariant, variantConverter } from './variants.ts';

await runWorkloadMain('currency-converter', variantConverter(readBakedVariant(import.meta.url)));
