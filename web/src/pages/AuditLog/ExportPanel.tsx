import { useState } from 'react';
import { Alert, Anchor, Button, List, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { createAuditLogExport } from '../../api/audit.ts';
import { ApiError } from '../../api/client.ts';
import { exportPlan, type AuditFilters } from '../../lib/audit-filters.ts';
import type { SearchQuery } from '../../lib/search.ts';
import { formatTime } from '../../lib/time.ts';

type Outcome =
  | { kind: 'refused'; reasons: string[] }
  | { kind: 'scheduled'; id: string; scope: string }
  | { kind: 'failed'; message: string; code: string };

/**
 * The Export button and what came of it: the view's filters become Export Audit Log criteria;
 * a view Zoho's export cannot express is refused with the reason, before anything is posted;
 * the server's own refusal is shown in its words.
 */
export function useExport(filters: AuditFilters, search: SearchQuery | null, userIds: string[] | undefined, timeZone: string,
  searchPending: boolean, badTimes: string[] = []) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const client = useQueryClient();
  const mutation = useMutation({
    mutationFn: createAuditLogExport,
    onSuccess: () => client.invalidateQueries({ queryKey: ['exports'] }),
  });
  const run = () => {
    // A From or To that is not a date must not quietly become "any time": the export would cover far more.
    if (badTimes.length) {
      setOutcome({ kind: 'refused', reasons: [`${badTimes.join(' and ')} ${badTimes.length > 1 ? 'are not dates' : 'is not a date'}: choose a date under From and To first.`] });
      return;
    }
    if (!search) {
      setOutcome({ kind: 'refused', reasons: [searchPending
        ? 'The search is still being read (the lists of users and modules are loading). Try again in a moment.'
        : 'Fix the search first: an export uses the same filters as the view.'] });
      return;
    }
    const plan = exportPlan(filters, search, userIds);
    if (!plan.ok) {
      setOutcome({ kind: 'refused', reasons: plan.reasons });
      return;
    }
    const narrowed = !!(filters.doneBy.length || filters.actions.length || filters.modules.length
      || search.users || search.actions || search.modules);
    const period = plan.from ? `from ${formatTime(plan.from, timeZone)} to ${formatTime(plan.to, timeZone)}` : 'of the last 3 years';
    const scope = narrowed ? `the entries ${period} that match the filters` : `every entry you may see ${period}`;
    setOutcome(null);
    mutation.mutate(plan.criteria, {
      onSuccess: (r) => setOutcome({ kind: 'scheduled', id: r.id, scope }),
      onError: (e) => setOutcome({ kind: 'failed', message: e instanceof ApiError ? e.message : String(e), code: e instanceof ApiError ? e.code : '' }),
    });
  };
  const button = (
    <Button variant="default" onClick={run} loading={mutation.isPending}>Export</Button>
  );
  const message = outcome && <ExportMessage outcome={outcome} onClose={() => setOutcome(null)} />;
  return { button, message };
}

function ExportMessage({ outcome, onClose }: { outcome: Outcome; onClose: () => void }) {
  if (outcome.kind === 'scheduled') {
    return (
      <Alert color="green" title="Export scheduled" role="status" withCloseButton closeButtonLabel="Dismiss" onClose={onClose}>
        <Text size="sm">
          The export of {outcome.scope} is scheduled. Follow it and download the file on the{' '}
          <Anchor component={Link} to="/exports">Exports</Anchor> page.
        </Text>
      </Alert>
    );
  }
  if (outcome.kind === 'refused') {
    return (
      <Alert color="yellow" title="This view cannot be exported" role="alert" withCloseButton closeButtonLabel="Dismiss" onClose={onClose}>
        {outcome.reasons.length === 1
          ? <Text size="sm">{outcome.reasons[0]}</Text>
          : <List size="sm">{outcome.reasons.map((r) => <List.Item key={r}>{r}</List.Item>)}</List>}
      </Alert>
    );
  }
  return (
    <Alert color="red" title="The export was not scheduled" role="alert" withCloseButton closeButtonLabel="Dismiss" onClose={onClose}>
      <Text size="sm">
        {outcome.message}
        {outcome.code === 'ALREADY_SCHEDULED' && <> See it on the <Anchor component={Link} to="/exports">Exports</Anchor> page.</>}
      </Text>
    </Alert>
  );
}
