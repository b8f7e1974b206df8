// Grafana's Select across versions, for the tests' queries.
import { screen } from '@testing-library/react';

/** The open menu's options: role "option" from Grafana 11 on; 10.4's carry only aria-label "Select option". */
export function menuOptions(): HTMLElement[] {
  const byRole = screen.queryAllByRole('option');
  return byRole.length ? byRole : screen.queryAllByLabelText('Select option');
}
