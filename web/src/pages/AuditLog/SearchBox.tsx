import { useEffect, useState, type FormEvent } from 'react';
import { Button, Stack, Text, TextInput } from '@mantine/core';
import type { ResolvedSearch } from './hooks.ts';

/**
 * The search box ("Search"): qualifiers and free text, applied on Enter or Apply. Mistakes are
 * shown under the box in words and nothing is applied until they are fixed.
 */
export function SearchBox({ value, urlErrors, check, onApply }: {
  value: string;
  /** Problems of the search the URL holds (a hand-edited or stale link). */
  urlErrors: string[];
  check: (text: string) => ResolvedSearch;
  onApply: (text: string) => void;
}) {
  const [text, setText] = useState(value);
  const [errors, setErrors] = useState<string[] | null>(null);
  useEffect(() => {
    setText(value);
    setErrors(null);
  }, [value]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = check(text);
    if (r.status === 'invalid') {
      setErrors(r.errors);
      return;
    }
    setErrors(null);
    onApply(text.trim());
  };
  const shown = errors ?? (text === value ? urlErrors : []);
  return (
    <form role="search" onSubmit={submit} noValidate>
      <TextInput
          label="Search"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          placeholder='Record name, or action:deleted module:Deals user:amelia@zylker.com'
          description='Qualifiers: action:, module:, user: (an email), record:"…", ip:, source:. Other words search record names.'
          error={shown.length ? <Stack gap={2}>{shown.map((m) => <Text key={m} size="xs" inherit>{m}</Text>)}</Stack> : undefined}
          autoComplete="off"
          spellCheck={false}
          inputWrapperOrder={['label', 'input', 'error', 'description']}
          styles={{ description: { color: 'var(--mantine-color-gray-7)' } }}
          rightSectionWidth={76}
          rightSectionPointerEvents="all"
          rightSection={<Button type="submit" size="compact-sm" variant="light">Apply</Button>}
        />
    </form>
  );
}
