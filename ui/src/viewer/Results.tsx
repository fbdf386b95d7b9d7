// A study's results: sign it off (every flagged finding decided), where its
// results stand on the way to the PACS, and the assessments already there
// (what a second reader needs to see).

import { useEffect, useState } from "preact/hooks";
import type { ClaimView, EarlierAssessment, ResultsView, StudyView } from "../bindings";
import { commands, message } from "../api";
import { ASSESSMENT_LABEL, RESULTS_LABEL, claimLine, label, score } from "../format";

/** Assessments already stored for a study, fetched when it opens and
 * again when its own results have been stored. */
export function useEarlier(id: string | undefined, state: string | undefined): { earlier: EarlierAssessment[]; error: string | null } {
  const [earlier, setEarlier] = useState<EarlierAssessment[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setEarlier([]);
    setError(null);
    if (!id) return;
    let cancelled = false;
    commands
      .earlierAssessments(id)
      .then((a) => !cancelled && setEarlier(a))
      .catch((e) => !cancelled && setError(message(e)));
    return () => {
      cancelled = true;
    };
  }, [id, state === "sent"]);
  return { earlier, error };
}

interface Props {
  study: StudyView;
  /** From the worklist row, which follows each decision. */
  canSignOff: boolean;
  /** The live state from the worklist (the outbox changes it in the background). */
  results: ResultsView;
  signing: boolean;
  onSignOff: () => void;
  /** Who holds the study in the department store (from the worklist row). */
  claim?: ClaimView | null;
}

/** Another reader holds the study: it is read-only here until taken over
 * (the take-over is recorded in the audit log). */
function Claimed({ id, claim }: { id: string; claim: ClaimView }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="banner warn claimed" id="claimed" role="status">
      {claimLine(claim)} since {claim.since}: read-only here.{" "}
      <button id="take-over" onClick={() => commands.takeOver(id).then(() => setError(null), (e) => setError(message(e)))}>
        Take over
      </button>
      {error && <div class="error">{error}</div>}
    </div>
  );
}

export function Results({ study, canSignOff, results, signing, onSignOff, claim }: Props) {
  const state = results.state;
  const { earlier, error: earlierError } = useEarlier(study.id, state);
  const other = claim && !claim.mine ? claim : null;
  return (
    <section class="results-panel" aria-label="Results">
      {other && <Claimed id={study.id} claim={other} />}
      <div class="row">
        <button id="sign-off" disabled={!canSignOff || signing || other !== null} onClick={onSignOff}>
          {results.signed_off > 0 ? "Sign off again" : "Sign off"} <kbd>e</kbd>
        </button>
        {state !== "none" && (
          <span id="results-state" class={`pill results ${state}`} data-state={state} title={results.message ?? ""}>
            {RESULTS_LABEL[state]}
          </span>
        )}
      </div>
      {!canSignOff && !study.ai_hidden && study.ai === "flagged" && (
        <p class="muted hint">Decide every flagged finding to sign off.</p>
      )}
      {state === "failed" && results.message && <div class="banner warn">Not sent yet: {results.message}</div>}
      {earlierError && <p class="muted">Earlier assessments could not be read: {earlierError}</p>}
      {earlier.length > 0 && (
        <div class="earlier" id="earlier-assessments">
          <h3>Earlier assessments</h3>
          {earlier.map((a) => (
            <div class="earlier-one" key={a.sop_instance_uid} data-reader={a.reader}>
              <div class="muted">
                {a.reader || "unknown reader"} · {a.verified_at} · {a.workstation}
                {a.corrects.length > 0 ? " · corrects an earlier report" : ""}
              </div>
              <ul>
                {a.findings.map((f) => (
                  <li key={f.label} data-label={f.label} data-assessment={f.assessment}>
                    {label(f.label)}
                    {f.score != null ? ` ${score(f.score)}` : ""}: {ASSESSMENT_LABEL[f.assessment] ?? f.assessment}
                    {f.reason ? ` (${f.reason})` : ""}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
