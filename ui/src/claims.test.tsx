// One worklist for several readers: who else is reading a study, "next"
// and the unread filter without it, and the read-only viewer's take-over.
import { act } from "preact/test-utils";
import { invoke } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ClaimView, StudyView, Worklist as WorklistData } from "./bindings";
import { claimLine } from "./format";
import { mount, row, unmountAll } from "./fixtures";
import { Worklist, filterRows } from "./Worklist";
import { Results } from "./viewer/Results";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

afterEach(unmountAll);

const claim = (over: Partial<ClaimView> = {}): ClaimView => ({
  reader: "Dr B", workstation: "ws-b", mine: false, since: "2026-12-04T10:00:00Z", done: false, ...over,
});

describe("claims", () => {
  it("says who else is reading or has read a study, never this workstation", () => {
    expect(claimLine(claim())).toBe("Being read by Dr B at ws-b");
    expect(claimLine(claim({ done: true }))).toBe("Read by Dr B at ws-b");
    expect(claimLine(claim({ mine: true }))).toBe("");
    expect(claimLine(null)).toBe("");
  });

  it("shows the claim on the row; a study another reader finished is not unread", () => {
    const rows = [row("s1", { claim: claim() }), row("s2", { claim: claim({ done: true }) }), row("s3", { claim: claim({ mine: true }) })];
    expect(filterRows(rows, "", "unread").map((r) => r.id)).toEqual(["s1", "s3"]);
    const data = { rows, triage: { done: 0, total: 0, running: false }, model: null, model_error: null, sources: [], audit: { unrecorded: 0, lost: 0, error: null }, store: null } as WorklistData;
    const el = mount(<Worklist data={data} selected={null} onSelect={() => {}} onOpen={() => {}} active={false} />);
    expect(el.querySelector("#row-s1 .claim")?.textContent).toBe("Being read by Dr B at ws-b");
    expect(el.querySelector("#row-s2 .claim.done")?.textContent).toBe("Read by Dr B at ws-b");
    expect(el.querySelector("#row-s3 .claim")).toBeNull();
  });

  it("makes the study read-only until the reader takes it over", async () => {
    const study = { id: "s1", ai: "flagged", ai_hidden: false, can_sign_off: true, results: { state: "none", message: null, signed_off: 0 } } as unknown as StudyView;
    vi.mocked(invoke).mockResolvedValue([]);
    const el = mount(<Results study={study} canSignOff={true} results={study.results} signing={false} onSignOff={() => {}} claim={claim()} />);
    expect((el.querySelector("#sign-off") as HTMLButtonElement).disabled).toBe(true);
    expect(el.querySelector("#claimed")?.textContent).toContain("Being read by Dr B at ws-b since 2026-12-04T10:00:00Z: read-only here.");
    vi.mocked(invoke).mockRejectedValueOnce({ code: "invalid_argument", message: "nobody else is reading this study" });
    await act(async () => {
      (el.querySelector("#take-over") as HTMLButtonElement).click();
      await Promise.resolve();
    });
    expect(invoke).toHaveBeenCalledWith("take_over", { id: "s1" });
    expect(el.querySelector("#claimed .error")?.textContent).toBe("nobody else is reading this study");
    const mine = mount(<Results study={study} canSignOff={true} results={study.results} signing={false} onSignOff={() => {}} claim={claim({ mine: true })} />);
    expect(mine.querySelector("#claimed")).toBeNull();
    expect((mine.querySelector("#sign-off") as HTMLButtonElement).disabled).toBe(false);
  });
});
