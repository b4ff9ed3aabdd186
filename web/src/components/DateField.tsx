import { useEffect, useRef, useState, type Ref } from 'react';
import { TextInput, type TextInputProps } from '@mantine/core';
import { isCalendarDate } from '../lib/time.ts';

/** How long a typed date waits for the next keystroke before it applies (leaving the field or Enter apply at once). */
const PAUSE_MS = 600;

/**
 * A date field (the browser's own, YYYY-MM-DD) that hands on only whole dates, once the typing
 * stops. Typed from the keyboard, a date field changes with every digit: "11", "01", then the year
 * "0002", "0020", "0202", "2026". Each of those used to become the filter at once: the list asked
 * the server for the year 2, and retyping a month applied the month in between (01, then 12), each
 * a history entry and an audited read. Here a date applies when it is a real date from 1900 on
 * (or the field is emptied) and the typing pauses, or at once on Enter or on leaving the field;
 * leaving it with less puts back the date in force.
 */
export function DateField({ value, onCommit, onBlur, onKeyDown, ref, ...props }: Omit<TextInputProps, 'value' | 'onChange' | 'type'> & {
  ref?: Ref<HTMLInputElement>;
  /** The date in force, YYYY-MM-DD, or '' for none. */
  value: string;
  /** Called with a whole date, or '' when the field was emptied. */
  onCommit: (date: string) => void;
}) {
  // What the field holds while it is not (yet) applied; null: it shows `value`.
  const [draft, setDraft] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const applicable = (v: string | null): v is string => v !== null && (v === '' || isCalendarDate(v));
  const apply = (v: string) => {
    window.clearTimeout(timer.current);
    setDraft(null);
    if (v !== value) onCommit(v);
  };
  return (
    <TextInput {...props} ref={ref} type="date" value={draft ?? value}
      onChange={(e) => {
        const v = e.currentTarget.value;
        // Part-typed, the browser reports '' (badInput) or a year below 1900: kept, not applied.
        const next = v === '' && e.currentTarget.validity.badInput ? '' : v;
        setDraft(next);
        window.clearTimeout(timer.current);
        if (!(v === '' && e.currentTarget.validity.badInput) && applicable(v)) timer.current = window.setTimeout(() => apply(v), PAUSE_MS);
      }}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && applicable(draft) && !e.currentTarget.validity.badInput) apply(draft);
        onKeyDown?.(e);
      }}
      onBlur={(e) => {
        if (applicable(draft) && !e.currentTarget.validity.badInput) apply(draft);
        else {
          window.clearTimeout(timer.current);
          setDraft(null);
        }
        onBlur?.(e);
      }} />
  );
}
