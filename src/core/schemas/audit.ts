import { z } from 'zod';
import {
  addressDerivedFields,
  addressFields,
  bookkeepingFields,
  derivedText,
  nameFields,
  num,
  phoneDerived,
  priceDerivedFields,
  recordLink,
  text,
  textOrNumber,
} from './fields';

// Ecologic publishes no field set for audit events: everything here is our assumption
// (docs/ecologic-api.md section 4), built so the quote-request derivations apply unchanged.
// The property owner and the place come first, then the audit, then the event's bookkeeping.
const owner = {
  ...nameFields('Owner'),
  email: text('Owner Email', "The property owner's email address."),
  phone: text('Owner Phone', "The property owner's phone number, as typed."),
  phone_e164: phoneDerived('phone', 'Owner'),
  ...addressFields,
  ...addressDerivedFields,
};

const audit = {
  audit_type_name: derivedText(
    'Audit Type',
    'The kind of audit in words, e.g. "Home Energy Audit" for `home_energy`; a code the app does not know is spelt out from its parts.',
  ),
  audit_type: text('Audit Type Code', "Ecologic's code for the kind of audit, e.g. `home_energy`."),
};

const link = {
  audit_url: recordLink('Audit'),
  audit_id: text(
    'Audit ID',
    "The audit's ID in Ecologic: as sent under `audit_id`, else the record's own ID (the same as `record_id`, as text) when Ecologic sent only that.",
  ),
};

export const auditCreatedSchema = z.object({
  ...owner,
  ...audit,
  created_by_email: text('Created By (Email)', 'Email address of the user who created the audit.'),
  ...link,
  ...bookkeepingFields,
});

export const auditSimulatedSchema = z.object({
  ...owner,
  ...audit,
  scenario: text('Upgrade Simulated', 'What was simulated, e.g. "6.6 kW solar + 10 kWh battery".'),
  current_annual_cost: textOrNumber('Current Energy Cost per Year (as Sent)', 'The yearly energy bill today, as sent, e.g. "$2,480.00".'),
  ...priceDerivedFields('current_annual_cost', 'Current Energy Cost per Year'),
  estimated_annual_savings: textOrNumber('Estimated Savings per Year (as Sent)', 'The estimated yearly savings, as sent, e.g. "$1,150.00".'),
  ...priceDerivedFields('estimated_annual_savings', 'Estimated Savings per Year'),
  estimated_payback_years: num('Estimated Payback (Years)', 'Simple payback period in years.'),
  estimated_co2_reduction_kg: num('Estimated CO2 Reduction (kg per Year)', 'Estimated yearly reduction in carbon dioxide emissions, in kilograms.'),
  energy_rating_before: num('Energy Rating Before (Stars out of 10)', 'Star rating from 0 to 10 before the upgrade.'),
  energy_rating_after: num('Energy Rating After (Stars out of 10)', 'Star rating from 0 to 10 after the simulated upgrade.'),
  simulation_id: text('Simulation ID', "The simulation's ID in Ecologic."),
  ...link,
  ...bookkeepingFields,
});

export const auditAssignedSchema = z.object({
  ...owner,
  ...audit,
  assignee_name: text('Assigned To', 'Name of the user now responsible for the audit.'),
  assignee_email: text('Assigned To (Email)', 'Email address of the user now responsible for the audit.'),
  previous_assignee_email: text('Previously Assigned To (Email)', 'Email address of the user responsible before, if any.'),
  assigned_by_email: text('Assigned By (Email)', 'Email address of the user who made the assignment.'),
  ...link,
  ...bookkeepingFields,
});

export const auditLabelAppliedSchema = z.object({
  label: text('Status Label', 'The label now on the audit, e.g. "Report sent".'),
  ...owner,
  ...audit,
  applied_by_email: text('Label Applied By (Email)', 'Email address of the staff member who applied the label.'),
  label_id: text('Status Label ID', "The label's ID in Ecologic."),
  ...link,
  ...bookkeepingFields,
});

export type AuditCreatedItem = z.output<typeof auditCreatedSchema>;
export type AuditSimulatedItem = z.output<typeof auditSimulatedSchema>;
export type AuditAssignedItem = z.output<typeof auditAssignedSchema>;
export type AuditLabelAppliedItem = z.output<typeof auditLabelAppliedSchema>;
