// The reader's calls: confirm, dismiss, add a missed finding, and the
// unaided impression in read-first mode. Each is shown only once the
// command returns, i.e. once its audit row is committed.

import { useCallback, useState } from "preact/hooks";
import type { DecisionView, FindingView, StudyView } from "../bindings";
import { commands, message } from "../api";
import { label } from "../format";
import type { Rect } from "./usePointer";

export type Call = "confirm" | "dismiss" | "add_missed";

/** Why a call was not recorded, by the error's code. */
function refusal(e: unknown): string {
  if ((e as { code?: string } | null)?.code === "impression_required") {
    return "Not recorded: record your impression first (n: normal, y: abnormal)";
  }
  return `Not recorded: ${message(e)}`;
}

export function useDecisions(
  study: StudyView | null,
  setStudy: (f: (s: StudyView | null) => StudyView | null) => void,
  shownAt: { current: number },
  onChanged: () => void,
  setStatus: (s: string) => void,
) {
  const [pending, setPending] = useState<string | null>(null);
  const [reason, setReason] = useState("");

  const decide = useCallback(
    async (f: FindingView | null, decision: Call, findingLabel?: string, region?: Rect) => {
      const name = findingLabel ?? f?.label;
      if (!study || pending || !name) return;
      setPending(name);
      try {
        const recorded: DecisionView = await commands.decide(study.id, {
          finding: name,
          decision,
          region: region ?? null,
          reason: reason.trim() || null,
          display_ms: performance.now() - shownAt.current,
        });
        setStudy((s) => (s ? { ...s, decisions: [...s.decisions, recorded] } : s));
        setReason("");
        setStatus(`Recorded ${decision.replace("_", " ")} of ${label(name)} (audit row ${recorded.seq})`);
        onChanged();
      } catch (e) {
        setStatus(refusal(e));
      } finally {
        setPending(null);
      }
    },
    [study, pending, reason, onChanged, setStatus],
  );

  const impression = useCallback(
    async (value: "normal" | "abnormal") => {
      if (!study?.ai_hidden) return;
      try {
        const s = await commands.recordImpression(study.id, { impression: value, findings: [], note: null });
        setStudy(() => s);
        setStatus(`Unaided impression recorded: ${value}`);
        onChanged();
      } catch (e) {
        setStatus(refusal(e));
      }
    },
    [study, onChanged, setStatus],
  );

  const [signing, setSigning] = useState(false);
  const signOff = useCallback(async () => {
    if (!study || signing) return;
    setSigning(true);
    try {
      const results = await commands.signOff(study.id);
      setStudy((s) => (s ? { ...s, results } : s));
      setStatus(`Signed off; results ${results.state === "sent" ? "sent" : "queued to send"}`);
      onChanged();
    } catch (e) {
      setStatus(`Not signed off: ${message(e)}`);
    } finally {
      setSigning(false);
    }
  }, [study, signing, onChanged, setStatus]);

  return { pending, reason, setReason, decide, impression, signing, signOff };
}
