import { useState, type Ref } from 'react';
import { TextInput, type TextInputProps } from '@mantine/core';
import { isCalendarDate } from '../lib/time.ts';

/**
 * A date field (the browser's own, YYYY-MM-DD) that hands on only whole dates. Typed from the
 * keyboard, a date field changes with every digit: "11", "01", then the year "0002", "0020",
 * "0202", "2026". Each of those used to become the filter at once, and the list asked the server
 * for the year 2. Here a part-typed date stays in the field until it is a real date from 1900 on
 * (or the field is emptied); leaving the field with less puts back the date in force.
 */
export function DateField({ value, onCommit, onBlur, ref, ...props }: Omit<TextInputProps, 'value' | 'onChange' | 'type'> & {
  ref?: Ref<HTMLInputElement>;
  /** The date in force, YYYY-MM-DD, or '' for none. */
  value: string;
  /** Called with a whole date, or '' when the field was emptied. */
  onCommit: (date: string) => void;
}) {
  // What the field holds while it is not (yet) a date to apply; null: it shows `value`.
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <TextInput {...props} ref={ref} type="date" value={draft ?? value}
      onChange={(e) => {
        const v = e.currentTarget.value;
        if (v === '' && !e.currentTarget.validity.badInput) {
          // Emptied (its clear button, or every part deleted).
          setDraft(null);
          if (value !== '') onCommit('');
        } else if (isCalendarDate(v)) {
          setDraft(null);
          if (v !== value) onCommit(v);
        } else {
          // Part-typed: the browser reports '' (badInput) or a year below 1900. Kept, not applied.
          setDraft(v);
        }
      }}
      onBlur={(e) => {
        setDraft(null);
        onBlur?.(e);
      }} />
  );
}
