/**
 * The Reports page's bar charts. They are pictures of the tables beside them, hidden from screen
 * readers (which read the tables), so each is sized for its bars and labels every one of them.
 */
import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { useElementSize } from '@mantine/hooks';
import { actionLabel } from '../../lib/audit-filters.ts';
import { seriesColor } from './actionColors.ts';
import { shortDay, truncateLabel } from './reportQuery.ts';

/** recharts' keyboard layer would put focusable parts inside the hidden picture. */
const NOT_FOCUSABLE = { accessibilityLayer: false } as const;
/** Room per bar of a ranking: a 12 px label with air above and below. */
const BAR_ROW = 32;
/** The value axis under a ranking's bars. */
const VALUE_AXIS = 32;
/** Below this many pixels per day the day labels turn 45 degrees, so that every one still fits. */
const UPRIGHT_DAY_WIDTH = 52;
/** Up to this many days every day is labelled; a month on a phone would be a smear of labels. */
const LABEL_EVERY_DAY = 14;
/** Roughly the width of one character of a 12 px label. */
const CHAR_WIDTH = 7;

interface TickProps { x?: number | string; y?: number | string; payload?: { value?: unknown } }

/** A category label cut to the axis' width, its full text in a title (a mouse user's tooltip). */
function CategoryTick({ x, y, payload, maxChars }: TickProps & { maxChars: number }) {
  const full = String(payload?.value ?? '');
  const shown = truncateLabel(full, maxChars);
  return (
    <g transform={`translate(${Number(x)},${Number(y)})`}>
      {shown !== full && <title>{full}</title>}
      <text x={-8} dy="0.355em" textAnchor="end" fontSize={12} fill="currentColor">{shown}</text>
    </g>
  );
}

/** A ranking (top users, top modules): one labelled horizontal bar per entry, as tall as its bars need. */
export function RankingChart({ data, color }: { data: { name: string; entries: number }[]; color: string }) {
  const { ref, width } = useElementSize();
  // The labels get two fifths of the width, within reason; the bars the rest.
  const axisWidth = Math.min(200, Math.max(96, Math.round(width * 0.4)));
  const maxChars = Math.floor((axisWidth - 12) / CHAR_WIDTH);
  return (
    <div ref={ref}>
      <BarChart h={data.length * BAR_ROW + VALUE_AXIS} orientation="vertical" dataKey="name" data={data} barChartProps={NOT_FOCUSABLE}
        withTooltip={false} series={[{ name: 'entries', label: 'Entries', color }]}
        yAxisProps={{ width: axisWidth, interval: 0, tick: (p: TickProps) => <CategoryTick {...p} maxChars={maxChars} /> }} />
    </div>
  );
}

/** Entries per day, stacked by action: every day of the range on the axis, each action in its own colour. */
export function TimelineChart({ data, actions }: { data: Record<string, string | number>[]; actions: string[] }) {
  const { ref, width } = useElementSize();
  const slanted = width > 0 && width / Math.max(1, data.length) < UPRIGHT_DAY_WIDTH;
  return (
    <div ref={ref}>
      <BarChart h={slanted ? 300 : 260} data={data} dataKey="day" type="stacked" withLegend barChartProps={NOT_FOCUSABLE} withTooltip={false}
        series={actions.map((a) => ({ name: a, label: actionLabel(a), color: seriesColor(a) }))}
        xAxisProps={{
          tickFormatter: (d: string) => shortDay(d), interval: data.length <= LABEL_EVERY_DAY ? 0 : 'preserveStartEnd',
          ...(slanted ? { angle: -45, textAnchor: 'end', height: 48, tick: { fontSize: 12, fill: 'currentColor' } } : {}),
        }} />
    </div>
  );
}
