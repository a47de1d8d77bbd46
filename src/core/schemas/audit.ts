import { z } from 'zod';
import { addressDerivedFields, addressFields, commonFields, sentIdFields, derivedText, num, priceDerivedFields, text, textOrNumber } from './fields';

// Ecologic publishes no field set for audit events: everything here is our assumption
// (docs/ecologic-api.md section 4), built so the quote-request derivations apply unchanged.
const auditFields = {
  ...commonFields,
  audit_id: text('Audit ID', "The audit's id."),
  audit_type: text('Audit Type', 'Kind of audit, e.g. `home_energy`.'),
  first_name: text('First Name', "Property owner's first name."),
  last_name: text('Last Name', "Property owner's last name."),
  email: text('Email', "Property owner's email address."),
  phone: text('Phone', "Property owner's phone number, as typed."),
  ...addressFields,
  ...addressDerivedFields,
  phone_e164: derivedText('Phone (E.164)', "The owner's phone in E.164 form (e.g. `+61412345678`); null when not a valid number."),
};

const labelFields = {
  label_id: text('Label ID', "The applied label's id."),
  label: text('Label', "The applied label's name, e.g. \"Report sent\"."),
  applied_by_email: text('Applied By Email', 'Email of the staff member who applied the label.'),
};

export const auditCreatedSchema = z.object({
  ...auditFields,
  created_by_email: text('Created By Email', 'Email of the user who created the audit.'),
  ...sentIdFields,
});

export const auditSimulatedSchema = z.object({
  ...auditFields,
  simulation_id: text('Simulation ID', "The simulation run's id."),
  scenario: text('Scenario', 'What was simulated, e.g. "6.6 kW solar + 10 kWh battery".'),
  current_annual_cost: textOrNumber('Current Annual Cost', 'Current yearly energy cost as sent, e.g. "$2,480.00".'),
  estimated_annual_savings: textOrNumber('Estimated Annual Savings', 'Estimated yearly savings as sent, e.g. "$1,150.00".'),
  estimated_payback_years: num('Estimated Payback (Years)', 'Simple payback period in years.'),
  estimated_co2_reduction_kg: num('Estimated CO2 Reduction (kg/Year)', 'Estimated yearly CO2 reduction in kilograms.'),
  energy_rating_before: num('Energy Rating Before', 'Star rating (0-10) before the upgrade.'),
  energy_rating_after: num('Energy Rating After', 'Star rating (0-10) after the simulated upgrade.'),
  ...priceDerivedFields('current_annual_cost', 'Current Annual Cost'),
  ...priceDerivedFields('estimated_annual_savings', 'Estimated Annual Savings'),
  ...sentIdFields,
});

export const auditAssignedSchema = z.object({
  ...auditFields,
  assignee_name: text('Assignee Name', 'Name of the user now responsible for the audit.'),
  assignee_email: text('Assignee Email', 'Email of the user now responsible for the audit.'),
  previous_assignee_email: text('Previous Assignee Email', 'Email of the previously responsible user, if any.'),
  assigned_by_email: text('Assigned By Email', 'Email of the user who made the assignment.'),
  ...sentIdFields,
});

export const auditLabelAppliedSchema = z.object({
  ...auditFields,
  ...labelFields,
  ...sentIdFields,
});

export type AuditCreatedItem = z.output<typeof auditCreatedSchema>;
export type AuditSimulatedItem = z.output<typeof auditSimulatedSchema>;
export type AuditAssignedItem = z.output<typeof auditAssignedSchema>;
export type AuditLabelAppliedItem = z.output<typeof auditLabelAppliedSchema>;
