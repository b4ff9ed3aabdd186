import { Alert, Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { formatTime } from '../../lib/time.ts';

/**
 * The audit log API shows a window of recent entries (60 days unless the organisation says
 * otherwise); older history is in the record's timeline and in exports.
 */
export function WindowNote({ windowStart, timeZone, reason, recordTimeline }: {
  windowStart: string | null;
  timeZone: string;
  reason: 'from-before' | 'end-reached';
  recordTimeline: string | null;
}) {
  const start = windowStart ? formatTime(windowStart, timeZone) : null;
  return (
    <Alert color="blue" variant="light" title="Limited to the audit log's window" role="note" my="sm">
      <Text size="sm">
        {reason === 'from-before'
          ? <>From is earlier than the audit log's window{start ? <>, which starts {start}</> : null}: this view shows entries from the window's start only.</>
          : <>These are all the entries of this view within the audit log's window{start ? <>, which starts {start}</> : null}. Older entries are not shown here.</>}
      </Text>
      <Text size="sm" mt={4}>
        For older history, {recordTimeline
          ? <>see the <Anchor component={Link} to={recordTimeline}>record's timeline</Anchor>, which keeps its whole history, or create an export on the </>
          : <>create an export on the </>}
        <Anchor component={Link} to="/exports">Exports</Anchor> page.
      </Text>
    </Alert>
  );
}
