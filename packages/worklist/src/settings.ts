/**
 * Per-destination settings of the worklist channels, as stored in Destination.settings (JSON,
 * never secrets: only the paths of the files that hold them) and parsed back at each send.
 */
import { z } from 'zod';

const hl7Name = z.string().max(180).regex(/^[^|^~\\&\r\n]*$/, 'must not contain HL7 delimiters |^~\\&');

export const hl7SettingsSchema = z.object({
  sendingApplication: hl7Name.default('LDH'),
  sendingFacility: hl7Name.default(''),
  receivingApplication: hl7Name.default(''),
  receivingFacility: hl7Name.default(''),
  priorityHint: z.enum(['obx', 'orc', 'none']).default('obx'),
  /** Connect + ACK wait; default: the writer's LDH_DELIVERY_TIMEOUT_MS. */
  timeoutMs: z.number().int().positive().optional(),
});
export type Hl7DestinationSettings = z.infer<typeof hl7SettingsSchema>;

export const fhirSettingsSchema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }),
    tokenFile: z.string().min(1).optional(),
    clientCredentialsFile: z.string().min(1).optional(),
    patientIdentifierSystem: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().optional(),
  })
  .refine((s) => !(s.tokenFile && s.clientCredentialsFile), { message: 'token-file and client-credentials-file exclude each other' });
export type FhirDestinationSettings = z.infer<typeof fhirSettingsSchema>;
