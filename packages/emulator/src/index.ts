export { DEFAULT_DEPLOYMENTS } from "./catalog.ts";
export { EmulatedIdentity, IDENTITY_PATH } from "./identity.ts";
export { startEmulator } from "./server.ts";
export type {
  Emulator,
  EmulatorDeployment,
  EmulatorOptions,
  EmulatorRealtime,
  Fault,
  FaultKind,
  RealtimeClose,
  RealtimeConnection,
  RecordedFile,
  RecordedMultipart,
  RecordedRequest,
  RequestStyle,
} from "./types.ts";
