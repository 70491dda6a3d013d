/**
 * The lab's registries: every kind of server and of traffic client a
 * topology file may name, each with the zod schema of its entry, the function
 * that starts it, and (for servers) the counters its dashboard card shows. A
 * new kind plugs in here: write its {@linkcode ServerKind} or
 * {@linkcode ClientKind} and add it to the table. Private to `lab/`.
 *
 * @module
 */
export { CLIENT_KINDS } from "./_client_kinds.ts";
export { SERVER_KINDS } from "./_server_kinds.ts";
export type {
  ClientKind,
  ClientStartContext,
  CounterDef,
  LabAddress,
  LabClient,
  LabFaultTarget,
  LabIssue,
  LabReference,
  LabServer,
  LabStartContext,
  LabSwitch,
  ServerKind,
} from "./_kind.ts";
export { NameSchema } from "./_kind.ts";
