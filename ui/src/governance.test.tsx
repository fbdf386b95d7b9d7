// The audit screen's governance view: the period it asks for, and each
// model version shown on its own with its drift and alerts.
import { act } from "preact/test-utils";
import { invoke } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Governance, defaultPeriod } from "./Governance";
import { mount, unmountAll } from "./fixtures";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

afterEach(unmountAll);

describe("governance", () => {
  it("defaults to the last four weeks", () => {
    expect(defaultPeriod(Date.UTC(2026, 11, 4, 12))).toEqual({ from: "2026-11-07", to: "2026-12-04" });
  });

  it("shows each model version on its own, with drift and alerts", async () => {
    const finding = (name: string, psi: number | null, alert: boolean) => ({
      finding: name, images: 400, flagged: 120, flag_rate: 0.3, accepted: 11, rejected: 5, added: 0, ppv: 11 / 16, median_ms: 4000,
      psi, ks_p: psi == null ? null : 1e-9, drift_alert: alert, drift_note: psi == null ? "not judged: 3 scores" : null,
      period_shares: psi == null ? [] : [0, 0, 0, 0.1, 0.2, 0.2, 0.2, 0.2, 0.1, 0], baseline_shares: psi == null ? [] : [0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0, 0, 0, 0],
    });
    const view = {
      scope: "the department store (5 workstations)", from: "2026-11-01", to: "2026-11-28", baseline_from: "2026-10-04", baseline_to: "2026-10-31",
      alerts: ["cxr 1.0: the nodule score distribution shifted (PSI 1.20, KS D 0.50, p 1.0e-9)"],
      models: [
        { name: "cxr", version: "1.0", sha256: "a", images: 400, decisions: 16, ppv: 11 / 16, findings: [finding("nodule", 1.2, true), finding("effusion", 0.01, false)], readers: [{ key: "r1 (radiologist)", accepted: 11, rejected: 5, added: 0, ppv: 11 / 16 }], mix_alerts: ["manufacturer"] },
        { name: "cxr", version: "2.0", sha256: "b", images: 3, decisions: 3, ppv: 1, findings: [finding("nodule", null, false)], readers: [], mix_alerts: [] },
      ],
    };
    vi.mocked(invoke).mockResolvedValue(view);
    const el = mount(<Governance department={true} setStatus={() => {}} />);
    await act(async () => {
      (el.querySelector("#governance-show") as HTMLButtonElement).click();
      await Promise.resolve();
    });
    expect(vi.mocked(invoke)).toHaveBeenCalledWith("governance", { request: expect.objectContaining({ scope: "workstation" }) });
    expect(el.querySelector("#governance-alerts")?.textContent).toContain("nodule score distribution shifted");
    const models = el.querySelectorAll(".governance-model");
    expect(models.length).toBe(2);
    expect(models[0].querySelector('tr[data-finding="nodule"]')?.className).toBe("drift");
    expect(models[0].querySelector('tr[data-finding="effusion"]')?.className).toBe("");
    expect(models[0].querySelectorAll(".score-bars rect").length).toBe(40);
    expect(models[0].textContent).toContain("The mix of images changed: manufacturer");
    expect(models[1].querySelector('tr[data-finding="nodule"]')?.textContent).toContain("not judged");
  });
});
