// Test fixtures shared by the UI's tests (never imported by the app).
import { render, type ComponentChild } from "preact";
import { act } from "preact/test-utils";
import type { WorklistRow } from "./bindings";

const mounted: HTMLElement[] = [];

/** Renders a component into the document (its effects, key listeners
 * among them, run too). */
export function mount(node: ComponentChild): HTMLElement {
  const el = document.createElement("div");
  document.body.appendChild(el);
  mounted.push(el);
  act(() => render(node, el));
  return el;
}

/** Unmounts what was mounted, running the effects' cleanups (a pending
 * prefetch timer among them): each test file's `afterEach`. */
export function unmountAll() {
  for (const el of mounted.splice(0)) act(() => render(null, el));
}

/** A worklist row as the core sends it, with `over` changed. */
export function row(id: string, over: Partial<WorklistRow> = {}): WorklistRow {
  return {
    id, patient_name: `PATIENT, ${id}`, patient_id: `P-${id}`, accession: `A${id}`, study_date: "2026-11-29",
    modality: "CR", body_part: "CHEST", view: "PA", images: 1, availability: "available", availability_message: null,
    ai: "flagged", ai_message: null, ai_hidden: false, top_finding: "opacity", top_score: 0.9, reading: "unread", source: "local", waited_minutes: 1, overdue: false,
    results: { state: "none", message: null, signed_off: 0 }, can_sign_off: false, claim: null, ...over,
  };
}

