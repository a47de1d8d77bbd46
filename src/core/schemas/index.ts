import type { PlatformEvent } from '../events';
import { auditAssignedSchema, auditCreatedSchema, auditLabelAppliedSchema, auditSimulatedSchema } from './audit';
import { quoteRequestCreatedSchema, quoteRequestLabelAppliedSchema } from './quote-request';

/** One zod schema per platform event: the Zap item it produces. */
export const EVENT_SCHEMAS = {
  'Audit:Create': auditCreatedSchema,
  'Audit:Simulate': auditSimulatedSchema,
  'Audit:Assign': auditAssignedSchema,
  'Audit:Label:Apply': auditLabelAppliedSchema,
  'RequestQuote:Create': quoteRequestCreatedSchema,
  'RequestQuote:Label:Apply': quoteRequestLabelAppliedSchema,
} as const satisfies Record<PlatformEvent, unknown>;
