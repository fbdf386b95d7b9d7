import { act } from "preact/test-utils";
import { invoke } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StudyView, Worklist as WorklistData } from "./bindings";
import { applyChange } from "./api";
import { auditWarning, storeLine } from "./format";
import { Findings, latest } from "./Findings";
import { KEYS, viewerAction } from "./keys";
import { Worklist, filterRows } from "./Worklist";
import { Results } from "./viewer/Results";
import { withPriors } from "./viewer/usePriors";
import { mount, row, unmountAll } from "./fixtures";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

const data: WorklistData = {
  rows: [row("s1"), row("s2", { ai: "no_flags", top_finding: null, top_score: null }), row("s3", { reading: "read" })],
  triage: { done: 2, total: 3, running: true },
  model: {
    name: "demo", version: "0.1.0", sha256: "0".repeat(64), licence: "Apache-2.0", clinical: false, go_live: "demonstration", description: "",
    execution_provider: "cpu", fallback: null, labels: ["opacity"], thresholds: [{ label: "opacity", threshold: 0.5, set_here: false }],
    intended_use: "CR PA of the chest",
  },
  model_error: null,
  sources: [],
  audit: { unrecorded: 0, lost: 0, error: null },
  store: null,
};

afterEach(unmountAll);

describe("worklist", () => {
  it("filters by status and searches every column a reader types", () => {
    expect(filterRows(data.rows, "", "flagged").map((r) => r.id)).toEqual(["s1", "s3"]);
    expect(filterRows(data.rows, "", "unread").map((r) => r.id)).toEqual(["s1", "s2"]);
    expect(filterRows(data.rows, "as2", "all").map((r) => r.id)).toEqual(["s2"]);
    expect(filterRows(data.rows, "OPACITY", "all").map((r) => r.id)).toEqual(["s1", "s3"]);
  });

  it("renders rows, progress and the demonstration-model banner; j/k move and Enter opens", async () => {
    const opened: string[] = [];
    let selected = "s1";
    const el = mount(<Worklist data={data} selected={selected} onSelect={(id) => (selected = id)} onOpen={(id) => opened.push(id)} active={true} />);
    expect(el.querySelectorAll("tr[data-id]").length).toBe(3);
    expect(el.querySelector(".banner.demo")?.textContent).toContain("not for clinical use");
    expect(el.querySelector("#triage-progress")?.textContent).toContain("2/3");
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "j" }));
    expect(selected).toBe("s2");
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(opened).toEqual(["s1"]);
    expect(el.querySelector("#sources")).toBeNull();
  });

  it("says a clinical model not validated here flags nothing, and no demonstration banner", () => {
    const clinical: WorklistData = { ...data, model: { ...data.model!, clinical: true, go_live: "not_validated_here" } };
    const el = mount(<Worklist data={clinical} selected={null} onSelect={() => {}} onOpen={() => {}} active={false} />);
    expect(el.querySelector("#not-validated")?.textContent).toBe(
      "demo 0.1.0 is not validated here: it flags nothing until a validation report is accepted",
    );
    expect(el.textContent).not.toContain("demonstration model");
    const live: WorklistData = { ...data, model: { ...data.model!, clinical: true, go_live: "validated" } };
    const el2 = mount(<Worklist data={live} selected={null} onSelect={() => {}} onOpen={() => {}} active={false} />);
    expect(el2.querySelector("#not-validated")).toBeNull();
    expect(el2.querySelector(".banner.demo")).toBeNull();
  });

  it("shows each PACS source's state, and partial studies as such", () => {
    const offline: WorklistData = {
      ...data,
      rows: [...data.rows, row("s4", { availability: "partial", ai: "waiting", availability_message: "1 of 3 instances retrieved", source: "pacs" })],
      sources: [{
        name: "pacs", kind: "dicomweb", state: "offline", message: "pacs: cannot connect: connection refused",
        studies: 4, complete: 3, instances_done: 0, instances_total: 0, last_answer: null,
      }],
    };
    const el = mount(<Worklist data={offline} selected={null} onSelect={() => {}} onOpen={() => {}} active={false} />);
    const text = el.querySelector("#sources")?.textContent ?? "";
    expect(text).toContain("offline");
    expect(text).toContain("cannot connect");
    expect(text).toContain("3/4 studies");
    expect(el.querySelector("tr[data-id=s4] .pill.partial")?.textContent).toBe("Partial");
    expect(filterRows(offline.rows, "", "partial").map((r) => r.id)).toEqual(["s4"]);
  });

  it("shows the department store's alert as an alert", () => {
    const alerted: WorklistData = {
      ...data,
      store: {
        state: "alert", message: "the store refused row 4 of workstation ws-2: the local log was changed after it was synced",
        behind: 0, last_answer: null, alerts: [],
      },
    };
    const el = mount(<Worklist data={alerted} selected={null} onSelect={() => {}} onOpen={() => {}} active={false} />);
    const strip = el.querySelector("#store-status");
    expect(strip?.getAttribute("role")).toBe("alert");
    expect(strip?.textContent).toContain("ALERT: the store refused row 4 of workstation ws-2");
    expect(mount(<Worklist data={data} selected={null} onSelect={() => {}} onOpen={() => {}} active={false} />).querySelector("#store-status")).toBeNull();
  });
});

describe("findings panel", () => {
  const study: StudyView = {
    id: "s1", patient_name: "P", patient_id: "P1", patient_sex: "F", patient_age: "050Y", accession: "A1",
    study_date: "", study_description: "", modality: "CR", body_part: "CHEST", view: "PA", manufacturer: "",
    transfer_syntax: "", availability: "available", availability_message: null, ai: "flagged", ai_message: null,
    ai_hidden: false, model: data.model,
    image: { width: 10, height: 10, offset: 0, scale: 1, invert: false, windows: [], pixel_spacing: null, spacing_at_detector: false, preview_width: 10, preview_height: 10 },
    findings: [{ label: "opacity", score: 0.8, threshold: 0.5, flagged: true, region: null, has_heatmap: true,
      prior: "opacity 0.80 now; 0.79 on 2025-11-20, dismissed as stable" }],
    decisions: [{ seq: 7, finding: "opacity", decision: "confirm", region: null, reason: null, recorded_at: "", row_hash: "x" }],
    impression_recorded: false,
    can_sign_off: true,
    results: { state: "none", message: null, signed_off: 0 },
    priors: [{ id: "s7", study_date: "2025-11-20", accession: "A7", availability: "available", ai: "flagged" }],
    images: [
      { index: 0, sop_uid: "2.25.1", view: "PA", series_description: "CHEST PA", ai: true, no_ai: null },
      { index: 1, sop_uid: "2.25.2", view: "LAT", series_description: "CHEST LATERAL", ai: false, no_ai: "No AI on this image: view position LL is outside the intended use (PA, AP)" },
    ],
    hanging: { beside: 1, prior_left: true },
  };
  const props = {
    selected: 0, onSelect: () => {}, heat: { label: null, mode: 1 as const, opacity: 0.5 }, onHeat: () => {},
    pending: null, reason: "", onReason: () => {}, onDecide: () => {}, onImpression: () => {},
    missed: null, onMissed: () => {}, onCancelMissed: () => {},
  };

  it("shows the badge, the score against the threshold, and only committed decisions", () => {
    const el = mount(<Findings study={study} {...props} />);
    expect(el.querySelector("#demo-badge")?.textContent).toMatch(/not for clinical use/i);
    expect(el.querySelector(".finding")?.textContent).toContain("0.80");
    expect(el.querySelector(".decision.confirm")?.textContent).toContain("row 7");
    expect(latest(study.decisions, "opacity")?.seq).toBe(7);
    expect(el.querySelector(".prior[data-label=opacity]")?.textContent).toContain("dismissed as stable");
    expect(el.querySelector("#priors .prior-link")?.getAttribute("data-id")).toBe("s7");
  });

  it("priors found on the PACS later join the view, each finding's line replaced by label", () => {
    const found = withPriors(study, {
      priors: [...study.priors, { id: "s3", study_date: "2024-11-20", accession: "A3", availability: "retrieving", ai: "waiting" }],
      lines: [{ finding: "opacity", line: "opacity 0.80 now; 0.41 on 2025-11-20, flagged, not decided" }],
      problems: [],
    });
    expect(found.priors.map((p) => p.id)).toEqual(["s7", "s3"]);
    expect(found.findings[0].prior).toBe("opacity 0.80 now; 0.41 on 2025-11-20, flagged, not decided");
    expect(found.decisions).toBe(study.decisions);
    expect(withPriors(study, null)).toBe(study);
  });

  it("says where the department store stands in one line", () => {
    const base = { message: null, behind: 0, last_answer: null, alerts: [] };
    expect(storeLine({ ...base, state: "in_sync" })).toBe("Department store: in sync");
    expect(storeLine({ ...base, state: "behind", behind: 3 })).toBe("Department store: 3 rows to send");
    expect(storeLine({ ...base, state: "offline", message: "department store unreachable: connection refused" })).toContain(
      "decisions kept here and sent when it answers: department store unreachable",
    );
    expect(storeLine({ ...base, state: "alert", message: "the store refused row 4 of this log" })).toBe(
      "Department store ALERT: the store refused row 4 of this log",
    );
  });

  it("read-first mode hides the AI and asks for an impression", () => {
    const el = mount(<Findings study={{ ...study, ai_hidden: true, model: null, findings: [] }} {...props} />);
    expect(el.querySelector("#read-first")).not.toBeNull();
    expect(el.querySelector(".finding")).toBeNull();
  });
});

describe("results panel", () => {
  const study = {
    id: "s1", ai: "flagged", ai_hidden: false, can_sign_off: false, results: { state: "none", message: null, signed_off: 0 },
  } as unknown as StudyView;

  it("signs off only when every flag is decided, and shows the outbox state and earlier readers", async () => {
    const signOff = vi.fn();
    vi.mocked(invoke).mockResolvedValue([]);
    const blocked = mount(<Results study={study} canSignOff={false} results={study.results} signing={false} onSignOff={signOff} />);
    expect((blocked.querySelector("#sign-off") as HTMLButtonElement).disabled).toBe(true);
    expect(blocked.textContent).toContain("Decide every flagged finding");
    const failed = { state: "failed" as const, message: "PACS unreachable", signed_off: 1 };
    const earlier = [{
      sop_instance_uid: "2.25.1", reader: "READER, Ann", verified_at: "2026-12-04 10:15", workstation: "ws1", source: "pacs", corrects: [],
      findings: [{ label: "nodule", assessment: "rejected", score: 0.79, flagged: true, reason: "stable" }],
    }];
    vi.mocked(invoke).mockResolvedValue(earlier);
    const el = mount(<Results study={study} canSignOff={true} results={failed} signing={false} onSignOff={signOff} />);
    await act(async () => {
      await Promise.resolve();
    });
    const button = el.querySelector("#sign-off") as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    expect(button.textContent).toContain("Sign off again");
    button.click();
    expect(signOff).toHaveBeenCalledOnce();
    expect(el.querySelector("#results-state")?.getAttribute("data-state")).toBe("failed");
    expect(el.textContent).toContain("Not sent yet: PACS unreachable");
    expect(el.querySelector("#earlier-assessments li")?.textContent).toBe("nodule 0.79: rejected (stable)");
  });
});

describe("worklist changes", () => {
  it("replace changed rows where they are, append new ones, and keep the server's order", () => {
    const changed = row("s2", { ai: "flagged", top_finding: "opacity", top_score: 0.7 });
    const added = row("s9", { availability: "retrieving", ai: "waiting" });
    const next = applyChange(data, { rows: [changed, added], triage: { done: 3, total: 3, running: false }, sources: null, model: null, audit: null, scan: null, priors: false, store: null });
    expect(next.rows.map((r) => r.id)).toEqual(["s1", "s2", "s3", "s9"]);
    expect(next.rows[1].ai).toBe("flagged");
    expect(next.triage.running).toBe(false);
    expect(next.model).toBe(data.model);
    const failed = applyChange(next, { rows: [], triage: null, sources: null, model: { model: null, error: "no runtime" }, audit: null, scan: null, priors: false, store: null });
    expect([failed.model, failed.model_error]).toEqual([null, "no runtime"]);
    const refused = applyChange(failed, { rows: [], triage: null, sources: null, model: null, audit: { unrecorded: 2, lost: 0, error: "database or disk is full" }, scan: null, priors: false, store: null });
    expect(auditWarning(refused.audit)).toBe("Audit log: 2 events not recorded yet, retrying. database or disk is full");
    expect(auditWarning(data.audit)).toBeNull();
  });
});

describe("key table", () => {
  it("drives the viewer and the help screen from one list", () => {
    expect(viewerAction("c")).toBe("confirm");
    expect(viewerAction("7")).toBe("preset");
    expect(viewerAction("Escape")).toBe("back");
    expect(viewerAction("toString")).toBeUndefined();
    const bound = KEYS.flatMap((k) => Object.keys(k.viewer ?? {}));
    expect(new Set(bound).size).toBe(bound.length); // no key does two things
    expect(KEYS.every((k) => k.shown && k.help)).toBe(true);
  });
});
