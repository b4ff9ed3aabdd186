import type { ReactNode } from 'react';
import { Alert, Button, Group, Modal, Stack } from '@mantine/core';
import { ApiError } from '../api/client.ts';

export interface ConfirmDialogProps {
  opened: boolean;
  /** The dialog's title, also its accessible name. */
  title: string;
  /** What will happen, in words. */
  children: ReactNode;
  /** The confirm button's label, e.g. "Delete Permanently". */
  confirmLabel: string;
  /** red for what cannot be undone. */
  color?: string;
  /** While the action runs: the button spins and the dialog stays open. */
  busy?: boolean;
  /** The action's error, shown in words inside the dialog. */
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * Asks before an action that cannot be undone. Cancel has the focus when the dialog opens, so
 * that Enter does not confirm by accident; Escape cancels.
 */
export function ConfirmDialog({ opened, title, children, confirmLabel, color = 'red', busy, error, onConfirm, onCancel }: ConfirmDialogProps) {
  const message = error ? (error instanceof ApiError || error instanceof Error ? error.message : String(error)) : null;
  return (
    <Modal opened={opened} onClose={() => { if (!busy) onCancel(); }} title={title} centered
      closeOnClickOutside={!busy} closeOnEscape={!busy} withCloseButton={!busy} closeButtonProps={{ 'aria-label': 'Close' }}>
      <Stack>
        {children}
        {message && <Alert color="red" role="alert">{message}</Alert>}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel} disabled={busy} data-autofocus>Cancel</Button>
          <Button color={color} onClick={onConfirm} loading={busy}>{confirmLabel}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
