// Settings' "Validation here": the state shown, and a report accepted.
import { act } from "preact/test-utils";
import { invoke } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ModelSite } from "./bindings";
import { mount, unmountAll } from "./fixtures";
import { ValidationHere } from "./ValidationHere";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

afterEach(() => {
  unmountAll();
  vi.mocked(invoke).mockReset();
});

const flush = () => act(async () => { await new Promise((r) => setTimeout(r, 0)); });
const by = { reader_id: "ab", reader_name: "Dr A Bell", role: "radiologist", at: "2026-12-05T10:00:00Z", seq: 4 };

const site = (over: Partial<ModelSite> = {}): ModelSite => ({
  name: "vendor-cxr", version: "2.1", sha256: "a".repeat(64), clinical: true,
  go_live: "not_validated_here", in_force: "not_validated_here",
  state: { model_sha256: "a".repeat(64), accepted: null, thresholds: [], retired: null },
  thresholds: [{ label: "opacity", threshold: 0.5, set_here: false }],
  accepting_roles: ["radiologist", "clinical lead", "clinical safety officer"],
  ...over,
});

describe("validation here", () => {
  it("says a clinical model is not validated here, and accepts a report", async () => {
    const accepted = site({
      go_live: "validated",
      state: { model_sha256: "a".repeat(64), accepted: { report_sha256: "b".repeat(64), by }, thresholds: [], retired: null },
    });
    vi.mocked(invoke).mockImplementation(async (cmd: string) => (cmd === "model_site" ? site() : accepted));
    const status: string[] = [];
    const el = mount(<ValidationHere active={true} setStatus={(s) => status.push(s)} />);
    await flush();
    expect(el.querySelector("#go-live")?.textContent).toBe(
      "vendor-cxr 2.1 is not validated here: it flags nothing until a validation report is accepted.",
    );
    (el.querySelector("#accept-validation") as HTMLButtonElement).click();
    await flush();
    expect(vi.mocked(invoke)).toHaveBeenCalledWith("accept_validation");
    expect(el.querySelector("#go-live")?.textContent).toBe("vendor-cxr 2.1 is validated here (applies at the next start).");
    expect(el.querySelector("#accepted-by")?.textContent).toContain("accepted by Dr A Bell (radiologist) on 2026-12-05");
    expect(status.at(-1)).toContain("applies at the next start");
  });

  it("sets a site threshold on a report, and refuses a value outside 0–1 before asking", async () => {
    const set = site({
      thresholds: [{ label: "opacity", threshold: 0.42, set_here: true }],
      state: {
        model_sha256: "a".repeat(64), accepted: null, retired: null,
        thresholds: [{ label: "opacity", value: 0.42, previous: 0.5, report_sha256: "b".repeat(64), by }],
      },
    });
    vi.mocked(invoke).mockImplementation(async (cmd: string) => (cmd === "model_site" ? site() : set));
    const status: string[] = [];
    const el = mount(<ValidationHere active={true} setStatus={(s) => status.push(s)} />);
    await flush();
    const input = el.querySelector("tr[data-label=opacity] input") as HTMLInputElement;
    await act(() => { input.value = "1.5"; input.dispatchEvent(new Event("input")); });
    (el.querySelector(".set-threshold") as HTMLButtonElement).click();
    await flush();
    expect(status.at(-1)).toBe("Not set: the opacity threshold must be a number from 0 to 1");
    expect(vi.mocked(invoke)).not.toHaveBeenCalledWith("set_site_threshold", expect.anything());
    await act(() => { input.value = "0.42"; input.dispatchEvent(new Event("input")); });
    (el.querySelector(".set-threshold") as HTMLButtonElement).click();
    await flush();
    expect(vi.mocked(invoke)).toHaveBeenCalledWith("set_site_threshold", { label: "opacity", value: 0.42 });
    expect(el.querySelector("tr[data-label=opacity] .num")?.textContent).toBe("0.42 (set here)");
    expect(el.querySelector(".site-threshold")?.textContent).toContain("threshold 0.50 → 0.42, set by Dr A Bell");
  });

  it("shows the core's refusal, and offers nothing for a demonstration model", async () => {
    vi.mocked(invoke).mockImplementation(async (cmd: string) => {
      if (cmd === "model_site") return site();
      throw { code: "invalid_argument", message: "Ann is a reporting radiographer; a validation is accepted by a radiologist" };
    });
    const status: string[] = [];
    const el = mount(<ValidationHere active={true} setStatus={(s) => status.push(s)} />);
    await flush();
    (el.querySelector("#accept-validation") as HTMLButtonElement).click();
    await flush();
    expect(status.at(-1)).toBe("Not accepted: Ann is a reporting radiographer; a validation is accepted by a radiologist");
    vi.mocked(invoke).mockImplementation(async () => site({ clinical: false, go_live: "demonstration", in_force: "demonstration" }));
    const demo = mount(<ValidationHere active={true} setStatus={() => {}} />);
    await flush();
    expect(demo.querySelector("#accept-validation")).toBeNull();
    expect(demo.querySelector("#go-live")?.textContent).toContain("is a demonstration model");
  });
});
