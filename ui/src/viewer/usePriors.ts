// The open study's priors kept current. The PACS is asked when a study is
// selected on the worklist and again (at most once in five minutes, the
// core decides) when it is opened; a prior retrieved or triaged later
// arrives as a `worklist-change` event that says so, and the priors are
// read again without the network. A prior stepped to that is still on the
// PACS is retrieved then.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { StudyPriors, StudyView } from "../bindings";
import { commands, onWorklistChange } from "../api";

/** `study` with the priors and comparison lines of `p` (when they are
 * this study's). */
export function withPriors(study: StudyView, p: StudyPriors | null): StudyView {
  if (!p) return study;
  const lines = new Map(p.lines.map((l) => [l.finding, l.line]));
  return { ...study, priors: p.priors, findings: study.findings.map((f) => ({ ...f, prior: lines.get(f.label) ?? f.prior })) };
}

/** The study as shown: its view with the priors as they stand now. */
export function usePriors(id: string, study: StudyView | null, prior: number | null, setStatus: (s: string) => void): StudyView | null {
  const [found, setFound] = useState<{ id: string; priors: StudyPriors } | null>(null);
  const asked = useRef(new Set<string>());
  const open = useRef(id);
  open.current = id;

  // Asked once the study is on screen, so that it never delays the first image.
  const loaded = study?.id === id;
  useEffect(() => {
    if (!loaded) return;
    let cancelled = false;
    const keep = (p: StudyPriors) => {
      if (cancelled) return;
      setFound({ id, priors: p });
      if (p.problems.length) setStatus(`Priors: ${p.problems[0]}`);
    };
    commands.findPriors(id, null).then(keep, () => undefined);
    const un = onWorklistChange((c) => {
      if (c.priors) commands.studyPriors(id).then(keep, () => undefined);
    });
    return () => {
      cancelled = true;
      un.then((f) => f());
    };
  }, [id, loaded]);

  useEffect(() => {
    asked.current.clear();
    setFound(null);
  }, [id]);

  const shown = useMemo(() => (study && study.id === id && found?.id === id ? withPriors(study, found.priors) : study), [study, found, id]);

  // A prior stepped to that is still on the PACS (or was evicted) is
  // retrieved now; the event that follows redraws it.
  const p = prior === null ? undefined : shown?.priors[prior];
  useEffect(() => {
    if (!p || (p.availability !== "retrieving" && p.availability !== "evicted") || asked.current.has(p.id)) return;
    asked.current.add(p.id);
    setStatus(`Retrieving the prior of ${p.study_date} from the PACS…`);
    commands.findPriors(id, p.id).then(
      (got) => open.current === id && setFound({ id, priors: got }),
      () => undefined,
    );
  }, [p?.id, p?.availability]);

  return shown;
}
