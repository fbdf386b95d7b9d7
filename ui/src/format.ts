// Small display helpers shared by the screens.
import type { AiStatus, AuditHealth, Availability, ClaimView, GoLive, ReadingStatus, ResultsState, SourceState, StoreStatus, WorklistRow } from "./bindings";

export const AI_LABEL: Record<AiStatus, string> = {
  waiting: "Waiting",
  queued: "Queued",
  running: "Running",
  flagged: "Flagged",
  no_flags: "No flags",
  refused: "Refused",
  error: "Error",
  unrecorded: "Not recorded",
  withheld: "Read first",
};

export const AVAILABILITY_LABEL: Record<Availability, string> = {
  available: "Here",
  retrieving: "Retrieving",
  partial: "Partial",
  evicted: "Evicted",
};

/** A row's status pill: where its images stand until they are all here,
 * then where its AI result stands. */
export function statusPill(r: Pick<WorklistRow, "availability" | "ai">): { cls: string; text: string } {
  return r.availability !== "available"
    ? { cls: r.availability, text: AVAILABILITY_LABEL[r.availability] }
    : { cls: r.ai, text: AI_LABEL[r.ai] };
}

export const SOURCE_LABEL: Record<SourceState, string> = {
  not_checked: "not checked yet",
  checking: "checking…",
  online: "online",
  offline: "offline",
};

export const READING_LABEL: Record<ReadingStatus, string> = {
  unread: "Unread",
  in_progress: "In progress",
  read: "Read",
};

export const RESULTS_LABEL: Record<ResultsState, string> = {
  none: "",
  queued: "Queued",
  sent: "Sent",
  failed: "Failed",
};

export const ASSESSMENT_LABEL: Record<string, string> = {
  accepted: "accepted",
  rejected: "rejected",
  modified: "accepted, region changed",
  added: "added by the reader",
  not_assessed: "not assessed",
};

export function score(s: number | null | undefined): string {
  return s == null ? "" : s.toFixed(2);
}

export function label(s: string): string {
  return s.replace(/_/g, " ");
}

/** Lower-case text a worklist row is searched by. */
export function searchText(parts: (string | null | undefined)[]): string {
  return parts.filter(Boolean).join(" ").toLowerCase();
}

/** What the status bar and Settings say while the audit log refuses writes. */
export function auditWarning(a: AuditHealth | undefined): string | null {
  if (!a || (a.unrecorded === 0 && a.lost === 0)) return null;
  const lost = a.lost > 0 ? `; ${a.lost} could not be kept` : "";
  return `Audit log: ${a.unrecorded} event${a.unrecorded === 1 ? "" : "s"} not recorded yet, retrying${lost}. ${a.error ?? ""}`.trim();
}

/** The department store's state in one line, for the sources strip. */
/** Who else is reading a study, as the department store says; empty when
 * nobody else is (or the store is not configured or cannot be reached). */
export function claimLine(c: ClaimView | null | undefined): string {
  if (!c || c.mine) return "";
  return `${c.done ? "Read" : "Being read"} by ${c.reader} at ${c.workstation}`;
}

export function storeLine(s: StoreStatus): string {
  switch (s.state) {
    case "checking":
      return "Department store: connecting…";
    case "in_sync":
      return "Department store: in sync";
    case "behind":
      return `Department store: ${s.behind} row${s.behind === 1 ? "" : "s"} to send`;
    case "offline":
      return `Department store offline, decisions kept here and sent when it answers: ${s.message ?? ""}`.trim();
    case "alert":
      return `Department store ALERT: ${s.message ?? ""}`.trim();
  }
}

/** The readers' roles, as settings keep them and as they read. */
export const ROLES: [string, string][] = [
  ["radiologist", "Radiologist"],
  ["reporting radiographer", "Reporting radiographer"],
  ["trainee", "Trainee"],
];

/** What the worklist and Settings say of a model's use here (`overread model accept`). */
export function goLiveText(g: GoLive): string {
  switch (g) {
    case "demonstration":
      return "is a demonstration model, not for clinical use";
    case "not_validated_here":
      return "is not validated here: it flags nothing until a validation report is accepted";
    case "validated":
      return "is validated here";
    case "retired":
      return "is retired here: it flags nothing";
  }
}
