export { DEFAULT_DEPLOYMENTS } from "./catalog.ts";
export { startEmulator } from "./server.ts";
export type {
  Emulator,
  EmulatorDeployment,
  EmulatorOptions,
  Fault,
  FaultKind,
  RecordedFile,
  RecordedMultipart,
  RecordedRequest,
  RequestStyle,
} from "./types.ts";
