// Small display helpers shared by the screens.
import type { AiStatus, ReadingStatus, SourceState } from "./bindings";

export const AI_LABEL: Record<AiStatus, string> = {
  queued: "Queued",
  running: "Running",
  flagged: "Flagged",
  no_flags: "No flags",
  refused: "Refused",
  error: "Error",
  retrieving: "Retrieving",
  partial: "Partial",
};

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
