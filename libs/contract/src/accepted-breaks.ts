import { Break, formatBreak } from './breaking-changes';

/**
 * contracts/accepted-breaks.json: intentional breaks, reviewed like code (CODEOWNERS). An entry is honoured
 * only for an operation under a major version newer than the release it is compared with (`/v2/...` while
 * the last release is 1.x): a released major is never broken, it is deprecated and then replaced.
 *
 * The one exception is `kind: "matches-server"`: the document was looser (or wrong) about what the server
 * already did when the release was published, and is corrected to it. No client sees a different answer,
 * so it is allowed in the released major, but only with `evidence`: the test that shows the server
 * behaving so (docs/api-lifecycle.md).
 */
export interface AcceptedBreak {
  /** `GET /v2/products/{id}` */
  operation: string;
  /** A substring of the reported break, e.g. `response field removed`. */
  change: string;
  reason: string;
  approvedBy: string;
  kind?: 'breaking' | 'matches-server';
  /** Required for `matches-server`: the test file that shows the server already behaving as now documented. */
  evidence?: string;
}

export interface Verdict {
  breaks: Break[];
  accepted: Array<{ break: Break; entry: AcceptedBreak }>;
  /** Entries that cannot be honoured, with why; they fail the check so nobody believes they apply. */
  invalid: string[];
}

export function majorOfPath(operation: string): number | undefined {
  const m = /^\S+ \/v(\d+)\//.exec(operation);
  return m ? Number(m[1]) : undefined;
}

export function majorOfVersion(version: string): number {
  const m = /^v?(\d+)/.exec(version);
  if (!m) throw new Error(`not a version: ${version}`);
  return Number(m[1]);
}

export function applyAcceptedBreaks(
  breaks: readonly Break[],
  entries: readonly AcceptedBreak[],
  releaseMajor: number,
): Verdict {
  const invalid: string[] = [];
  const usable: AcceptedBreak[] = [];
  for (const e of entries) {
    const name = `${e.operation ?? '?'} "${e.change ?? ''}"`;
    const major = majorOfPath(String(e.operation ?? ''));
    if (!e.operation || !e.change || !e.reason || !e.approvedBy) {
      invalid.push(`${name}: operation, change, reason and approvedBy are all required`);
    } else if (e.kind === 'matches-server') {
      if (!e.evidence)
        invalid.push(`${name}: a matches-server entry names its evidence (the test that shows it)`);
      else usable.push(e);
    } else if (e.kind !== undefined && e.kind !== 'breaking') {
      invalid.push(`${name}: kind must be "breaking" or "matches-server"`);
    } else if (major === undefined || major <= releaseMajor) {
      invalid.push(
        `${name}: only operations of a major version newer than the released v${releaseMajor} can accept a break; ` +
          `deprecate the old operation and add a new one instead (docs/api-lifecycle.md)`,
      );
    } else usable.push(e);
  }
  const verdict: Verdict = { breaks: [], accepted: [], invalid };
  for (const b of breaks) {
    const entry = usable.find((e) => e.operation === b.operation && formatBreak(b).includes(e.change));
    if (entry) verdict.accepted.push({ break: b, entry });
    else verdict.breaks.push(b);
  }
  return verdict;
}
