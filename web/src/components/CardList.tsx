import type { ComponentPropsWithoutRef } from 'react';
import { Paper, Stack, type PaperProps, type StackProps } from '@mantine/core';

/**
 * A table's form on a phone: a list (`ul`) of bordered cards, named for screen readers by
 * `aria-label` or `aria-labelledby`, so that no column sits off the screen's right edge.
 */
export function CardList({ children, ...props }: StackProps & Omit<ComponentPropsWithoutRef<'ul'>, keyof StackProps>) {
  return <Stack component="ul" gap="xs" m={0} p={0} style={{ listStyle: 'none' }} {...props}>{children}</Stack>;
}

/** One card of a CardList (an `li`). */
export function Card({ children, ...props }: PaperProps & Omit<ComponentPropsWithoutRef<'li'>, keyof PaperProps>) {
  return <Paper component="li" withBorder p="sm" {...props}>{children}</Paper>;
}
