import type net from 'node:net';
import type dimse from 'dcmjs-dimse';
import type { DatasetSpool, ReceiveBuffer } from './dataset-spool.js';
import type { ScpError } from './errors.js';
import type { PduReader } from './pdu-reader.js';
import type { AssociationSummary } from './scp-types.js';
import type { UpperLayerState } from './upper-layer.js';

export interface StoreJob {
  spool: DatasetSpool;
  header: Buffer;
  /** Resolves once the admission checks (closing, disk space, sink overload) have run. */
  admitted: Promise<void>;
  refusal?: ScpError;
  sopClassUid: string;
  sopInstanceUid: string;
  presentationContextId: number;
  messageId: number;
  /** The accepted transfer syntax of the presentation context (undefined when not accepted). */
  transferSyntaxUid: string | undefined;
  /** When the command arrived (for the receive-time breakdown in debug logs). */
  firstByteAt: number;
  /** How long the sender took from our previous response on this association to this command (debug logs). */
  senderMs?: number;
  /** Received through our P-DATA fast path rather than dcmjs-dimse's DIMSE decoding. */
  fastPath?: boolean;
}

export interface Connection {
  id: string;
  socket: net.Socket;
  remoteAddress: string;
  startedAt: Date;
  handler?: InstanceType<typeof dimse.Scp>;
  associated: boolean;
  callingAeTitle: string;
  calledAeTitle: string;
  /** Over the association limit when it connected: its A-ASSOCIATE-RQ is rejected on its header. */
  overLimit: boolean;
  /** Where the connection stands in PS3.8's state machine. */
  ulState: UpperLayerState;
  /** Presentation context ids we accepted (a PDV on any other is aborted). */
  acceptedContexts: Set<number>;
  /** Bytes of a command set arriving in fragments (dcmjs-dimse assembles it), 0 when none. */
  commandBytes: number;
  inFlight: number;
  idle: Promise<void>;
  markIdle?: () => void;
  /** Datasets being received, keyed by request (dcmjs-dimse path) or by the job itself (fast path). */
  pending: Map<object, StoreJob>;
  /** The C-STORE whose dataset the fast path is receiving. */
  fastJob?: StoreJob;
  /** Whether the PDV being streamed into `fastJob` is its last fragment. */
  fastPdvLast: boolean;
  /** Our PDU reader (replaces dcmjs-dimse's on this socket). */
  reader?: PduReader;
  /** When we last wrote a C-STORE response (debug timing of the sender's turn-around). */
  lastResponseAt?: number;
  /** The receive buffer not lent to a C-STORE right now (reused by the next one). */
  spareBuffer?: ReceiveBuffer;
  stored: number;
  failed: number;
  bytes: number;
  ending: AssociationSummary['ending'];
}

