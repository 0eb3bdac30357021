import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { post } from '../api.js';
import { setupGuideValues } from '../setup-guide.js';
import type { RawValues } from '../schema-form.js';
import type { DestinationType, SetupGuide } from '../types.js';
import { CodeBlock } from '../ui/basics.js';

/** Waits until the value has been stable for `ms`, so typing does not send a request per key. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/**
 * The destination's setup guide beside its form: steps, and the script to run on the
 * destination side rendered by the server for what the form holds so far.
 */
export function SetupGuidePanel({ destination, values }: { destination: DestinationType; values: RawValues }) {
  const base = destination.setup_guide;
  const key = useSettled(JSON.stringify(setupGuideValues(destination.config_schema, values)), 400);
  const rendered = useQuery({
    queryKey: ['setup-guide', destination.type, key],
    queryFn: () => post<SetupGuide | null>(`/v3/destinations/${encodeURIComponent(destination.type)}/setup-guide`, { config: JSON.parse(key) as Record<string, string> }),
    enabled: Boolean(base?.script),
    placeholderData: keepPreviousData,
  });
  if (!base) return null;
  const guide = rendered.data ?? base;
  return (
    <details className="card-body setup-guide" data-testid="setup-guide">
      <summary>
        <strong>Setup</strong> <span className="muted">{guide.title}</span>
      </summary>
      <div className="stack-s">
        {guide.description ? <p className="muted">{guide.description}</p> : null}
        {guide.steps.length ? (
          <ol>
            {guide.steps.map((s) => (
              <li key={s.title}>
                <strong>{s.title}</strong> {s.text}
              </li>
            ))}
          </ol>
        ) : null}
        {guide.script !== null ? <CodeBlock code={guide.script} label={`Setup script${guide.language ? ` (${guide.language.toUpperCase()})` : ''}`} testId="setup-script" /> : null}
        {rendered.isError ? <span className="hint">The script shows the last values the server accepted; check the fields above.</span> : null}
      </div>
    </details>
  );
}
