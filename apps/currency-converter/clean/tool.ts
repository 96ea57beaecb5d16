// The currency converter as the bank onboarded it.
import { z } from 'zod';
import { defineTool, type ToolSpec } from '../../lib/mcp-tools.ts';
import type { WorkloadFactory } from '../../lib/workload.ts';
import { conversionArgs, convert } from '../convert.ts';
import { converterWorkload } from '../service.ts';

export function cleanConvertTool(ratesApiUrl: string | undefined): ToolSpec {
  return defineTool({
    name: 'convert_currency',
    title: 'Convert currency',
    description: 'Convert an amount between two ISO 4217 currencies (GBP, EUR, USD, JPY) at acme-fx reference rates.',
    inputSchema: z.object(conversionArgs),
    annotations: { readOnlyHint: true, openWorldHint: true },
    run: (args) => convert(args, { apiUrl: ratesApiUrl }),
  }) as ToolSpec;
}

export const cleanConverter: WorkloadFactory = (context) => converterWorkload(context, cleanConvertTool(context.env.FX_API_URL || undefined));
