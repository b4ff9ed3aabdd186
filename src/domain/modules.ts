import { AppError } from './errors.ts';
/** Module and field metadata of the standard CRM modules, as the Zoho metadata APIs describe them. */

export type FieldType =
  | 'text' | 'textarea' | 'email' | 'phone' | 'website' | 'integer' | 'bigint' | 'double' | 'currency'
  | 'boolean' | 'date' | 'datetime' | 'picklist' | 'multiselectpicklist' | 'lookup' | 'ownerlookup'
  | 'userlookup';

export interface FieldDef {
  apiName: string;
  label: string;
  type: FieldType;
  mandatory?: boolean;
  readOnly?: boolean;
  maxLength?: number;
  picklist?: readonly string[];
  /** For lookups: the module the id points into; '*' for multi-module lookups (What_Id, Parent_Id). */
  lookupModule?: string;
}

export interface ModuleDef {
  apiName: string;
  moduleName: string;
  singular: string;
  plural: string;
  /** The field whose value names a record (Full_Name is computed for people modules). */
  nameField: string;
  fields: readonly FieldDef[];
  /** Can hang off a parent record (notes, attachments, activities). */
  dependent?: 'parent_id' | 'what_id';
  creatable?: boolean;
  convertable?: boolean;
}

const t = (apiName: string, label: string, extra: Partial<FieldDef> = {}): FieldDef =>
  ({ apiName, label, type: 'text', maxLength: 255, ...extra });
const mand = (apiName: string, label: string, extra: Partial<FieldDef> = {}): FieldDef =>
  t(apiName, label, { mandatory: true, ...extra });
const pick = (apiName: string, label: string, values: readonly string[], extra: Partial<FieldDef> = {}): FieldDef =>
  ({ apiName, label, type: 'picklist', picklist: values, ...extra });
const typed = (apiName: string, label: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef =>
  ({ apiName, label, type, ...extra });
const lookup = (apiName: string, label: string, module: string, extra: Partial<FieldDef> = {}): FieldDef =>
  ({ apiName, label, type: 'lookup', lookupModule: module, ...extra });
const desc = typed('Description', 'Description', 'textarea', { maxLength: 32000 });

const LEAD_SOURCES = ['-None-', 'Advertisement', 'Cold Call', 'Employee Referral', 'External Referral',
  'Online Store', 'Partner', 'Public Relations', 'Sales Email Alias', 'Seminar Partner', 'Trade Show',
  'Web Download', 'Web Research', 'Chat'];
const INDUSTRIES = ['-None-', 'ASP (Application Service Provider)', 'Data/Telecom OEM', 'ERP (Enterprise Resource Planning)',
  'Government/Military', 'Large Enterprise', 'ManagementISV', 'MSP (Management Service Provider)',
  'Network Equipment Enterprise', 'Non-management ISV', 'Optical Networking', 'Service Provider',
  'Small/Medium Enterprise', 'Storage Equipment', 'Storage Service Provider', 'Systems Integrator',
  'Wireless Industry', 'Communications', 'Education', 'Financial Services', 'Healthcare', 'Manufacturing',
  'Retail', 'Technology'];
const RATINGS = ['-None-', 'Acquired', 'Active', 'Market Failed', 'Project Cancelled', 'Shut Down'];
const person = (): FieldDef[] => [
  typed('Salutation', 'Salutation', 'picklist', { picklist: ['-None-', 'Mr.', 'Mrs.', 'Ms.', 'Dr.', 'Prof.'] }),
  t('First_Name', 'First Name', { maxLength: 40 }),
  mand('Last_Name', 'Last Name', { maxLength: 80 }),
  t('Full_Name', 'Full Name', { readOnly: true }),
  typed('Email', 'Email', 'email', { maxLength: 100 }),
  typed('Phone', 'Phone', 'phone', { maxLength: 30 }),
  typed('Mobile', 'Mobile', 'phone', { maxLength: 30 }),
  t('Designation', 'Title', { maxLength: 100 }),
  pick('Lead_Source', 'Lead Source', LEAD_SOURCES),
  typed('Email_Opt_Out', 'Email Opt Out', 'boolean'),
];
const ACTIVITY_LINKS = [
  lookup('What_Id', 'Related To', '*'),
  lookup('Who_Id', 'Contact Name', 'Contacts'),
];
const totals = [typed('Grand_Total', 'Grand Total', 'currency'), typed('Sub_Total', 'Sub Total', 'currency')];

export const STANDARD_MODULES: readonly ModuleDef[] = [
  {
    apiName: 'Leads', moduleName: 'Leads', singular: 'Lead', plural: 'Leads', nameField: 'Full_Name', convertable: true,
    fields: [...person(), t('Company', 'Company', { maxLength: 200 }),
      pick('Lead_Status', 'Lead Status', ['-None-', 'Attempted to Contact', 'Contact in Future', 'Contacted',
        'Junk Lead', 'Lost Lead', 'Not Contacted', 'Pre-Qualified', 'Not Qualified']),
      pick('Industry', 'Industry', INDUSTRIES), typed('Annual_Revenue', 'Annual Revenue', 'currency'),
      typed('No_of_Employees', 'No. of Employees', 'integer'), typed('Website', 'Website', 'website'),
      pick('Rating', 'Rating', RATINGS), t('Street', 'Street', { maxLength: 250 }), t('City', 'City', { maxLength: 100 }),
      t('State', 'State', { maxLength: 100 }), t('Zip_Code', 'Zip Code', { maxLength: 30 }),
      t('Country', 'Country', { maxLength: 100 }), desc],
  },
  {
    apiName: 'Contacts', moduleName: 'Contacts', singular: 'Contact', plural: 'Contacts', nameField: 'Full_Name',
    fields: [...person(), lookup('Account_Name', 'Account Name', 'Accounts'), t('Department', 'Department', { maxLength: 30 }),
      typed('Date_of_Birth', 'Date of Birth', 'date'), t('Mailing_Street', 'Mailing Street', { maxLength: 250 }),
      t('Mailing_City', 'Mailing City', { maxLength: 100 }), t('Mailing_State', 'Mailing State', { maxLength: 100 }),
      t('Mailing_Country', 'Mailing Country', { maxLength: 100 }), desc],
  },
  {
    apiName: 'Accounts', moduleName: 'Accounts', singular: 'Account', plural: 'Accounts', nameField: 'Account_Name',
    fields: [mand('Account_Name', 'Account Name', { maxLength: 200 }), typed('Phone', 'Phone', 'phone', { maxLength: 30 }),
      typed('Website', 'Website', 'website'), pick('Account_Type', 'Account Type', ['-None-', 'Analyst', 'Competitor',
        'Customer', 'Distributor', 'Integrator', 'Investor', 'Other', 'Partner', 'Press', 'Prospect', 'Reseller', 'Supplier',
        'Vendor']), pick('Industry', 'Industry', INDUSTRIES), typed('Annual_Revenue', 'Annual Revenue', 'currency'),
      typed('Employees', 'Employees', 'integer'), pick('Rating', 'Rating', RATINGS),
      t('Billing_Street', 'Billing Street', { maxLength: 250 }), t('Billing_City', 'Billing City', { maxLength: 100 }),
      t('Billing_State', 'Billing State', { maxLength: 100 }), t('Billing_Country', 'Billing Country', { maxLength: 100 }), desc],
  },
  {
    apiName: 'Deals', moduleName: 'Potentials', singular: 'Deal', plural: 'Deals', nameField: 'Deal_Name',
    fields: [mand('Deal_Name', 'Deal Name', { maxLength: 120 }), typed('Amount', 'Amount', 'currency'),
      pick('Stage', 'Stage', ['Qualification', 'Needs Analysis', 'Value Proposition', 'Identify Decision Makers',
        'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost', 'Closed Lost to Competition'],
      { mandatory: true }),
      typed('Closing_Date', 'Closing Date', 'date'), typed('Probability', 'Probability (%)', 'integer'),
      lookup('Account_Name', 'Account Name', 'Accounts'), lookup('Contact_Name', 'Contact Name', 'Contacts'),
      pick('Type', 'Type', ['-None-', 'Existing Business', 'New Business']), pick('Lead_Source', 'Lead Source', LEAD_SOURCES),
      t('Next_Step', 'Next Step', { maxLength: 100 }), desc],
  },
  {
    apiName: 'Tasks', moduleName: 'Tasks', singular: 'Task', plural: 'Tasks', nameField: 'Subject', dependent: 'what_id',
    fields: [mand('Subject', 'Subject'), typed('Due_Date', 'Due Date', 'date'),
      pick('Status', 'Status', ['Not Started', 'Deferred', 'In Progress', 'Completed', 'Waiting for input']),
      pick('Priority', 'Priority', ['High', 'Highest', 'Low', 'Lowest', 'Normal']), ...ACTIVITY_LINKS, desc],
  },
  {
    apiName: 'Events', moduleName: 'Events', singular: 'Meeting', plural: 'Meetings', nameField: 'Event_Title', dependent: 'what_id',
    fields: [mand('Event_Title', 'Title'), typed('Start_DateTime', 'From', 'datetime', { mandatory: true }),
      typed('End_DateTime', 'To', 'datetime', { mandatory: true }), typed('All_day', 'All day', 'boolean'),
      t('Venue', 'Location'), ...ACTIVITY_LINKS, desc],
  },
  {
    apiName: 'Calls', moduleName: 'Calls', singular: 'Call', plural: 'Calls', nameField: 'Subject', dependent: 'what_id',
    fields: [mand('Subject', 'Subject'), pick('Call_Type', 'Call Type', ['Outbound', 'Inbound', 'Missed'], { mandatory: true }),
      typed('Call_Start_Time', 'Call Start Time', 'datetime', { mandatory: true }),
      t('Call_Duration', 'Call Duration', { maxLength: 10 }),
      pick('Call_Purpose', 'Call Purpose', ['-None-', 'Prospecting', 'Administrative', 'Negotiation', 'Demo', 'Project', 'Desk']),
      pick('Call_Result', 'Call Result', ['-None-', 'Interested', 'Not interested', 'No response', 'Busy', 'Requested more info',
        'Requested call back', 'Invalid number']), ...ACTIVITY_LINKS, desc],
  },
  {
    apiName: 'Notes', moduleName: 'Notes', singular: 'Note', plural: 'Notes', nameField: 'Note_Title', dependent: 'parent_id',
    fields: [t('Note_Title', 'Note Title', { maxLength: 120 }),
      typed('Note_Content', 'Note Content', 'textarea', { mandatory: true, maxLength: 32000 }),
      lookup('Parent_Id', 'Parent ID', '*', { mandatory: true })],
  },
  {
    apiName: 'Attachments', moduleName: 'Attachments', singular: 'Attachment', plural: 'Attachments', nameField: 'File_Name',
    dependent: 'parent_id', creatable: false,
    fields: [t('File_Name', 'File Name', { readOnly: true }), typed('Size', 'Size', 'bigint', { readOnly: true }),
      lookup('Parent_Id', 'Parent ID', '*', { readOnly: true })],
  },
  {
    apiName: 'Campaigns', moduleName: 'Campaigns', singular: 'Campaign', plural: 'Campaigns', nameField: 'Campaign_Name',
    fields: [mand('Campaign_Name', 'Campaign Name', { maxLength: 120 }),
      pick('Type', 'Type', ['-None-', 'Conference', 'Webinar', 'Trade Show', 'Public Relations', 'Partners', 'Referral Program',
        'Advertisement', 'Banner Ads', 'Direct mail', 'Email', 'Telemarketing', 'Others']),
      pick('Status', 'Status', ['-None-', 'Planning', 'Active', 'Inactive', 'Complete']),
      typed('Start_Date', 'Start Date', 'date'), typed('End_Date', 'End Date', 'date'),
      typed('Budgeted_Cost', 'Budgeted Cost', 'currency'), typed('Expected_Revenue', 'Expected Revenue', 'currency'), desc],
  },
  {
    apiName: 'Products', moduleName: 'Products', singular: 'Product', plural: 'Products', nameField: 'Product_Name',
    fields: [mand('Product_Name', 'Product Name', { maxLength: 120 }), t('Product_Code', 'Product Code', { maxLength: 40 }),
      typed('Unit_Price', 'Unit Price', 'currency'), typed('Product_Active', 'Product Active', 'boolean'),
      typed('Qty_in_Stock', 'Qty in Stock', 'double'), lookup('Vendor_Name', 'Vendor Name', 'Vendors'), desc],
  },
  {
    apiName: 'Quotes', moduleName: 'Quotes', singular: 'Quote', plural: 'Quotes', nameField: 'Subject',
    fields: [mand('Subject', 'Subject'), lookup('Account_Name', 'Account Name', 'Accounts'),
      lookup('Deal_Name', 'Deal Name', 'Deals'), lookup('Contact_Name', 'Contact Name', 'Contacts'),
      pick('Quote_Stage', 'Quote Stage', ['Draft', 'Negotiation', 'Delivered', 'On Hold', 'Confirmed', 'Closed Won', 'Closed Lost']),
      typed('Valid_Till', 'Valid Till', 'date'), ...totals, desc],
  },
  {
    apiName: 'Sales_Orders', moduleName: 'SalesOrders', singular: 'Sales Order', plural: 'Sales Orders', nameField: 'Subject',
    fields: [mand('Subject', 'Subject'), lookup('Account_Name', 'Account Name', 'Accounts'),
      lookup('Deal_Name', 'Deal Name', 'Deals'),
      pick('Status', 'Status', ['Created', 'Approved', 'Delivered', 'Cancelled']), typed('Due_Date', 'Due Date', 'date'),
      ...totals, desc],
  },
  {
    apiName: 'Purchase_Orders', moduleName: 'PurchaseOrders', singular: 'Purchase Order', plural: 'Purchase Orders',
    nameField: 'Subject',
    fields: [mand('Subject', 'Subject'), lookup('Vendor_Name', 'Vendor Name', 'Vendors'),
      pick('Status', 'Status', ['Created', 'Approved', 'Delivered', 'Cancelled']), typed('PO_Date', 'PO Date', 'date'),
      ...totals, desc],
  },
  {
    apiName: 'Invoices', moduleName: 'Invoices', singular: 'Invoice', plural: 'Invoices', nameField: 'Subject',
    fields: [mand('Subject', 'Subject'), lookup('Account_Name', 'Account Name', 'Accounts'),
      lookup('Sales_Order', 'Sales Order', 'Sales_Orders'),
      pick('Status', 'Status', ['Created', 'Approved', 'Delivered', 'Cancelled']), typed('Invoice_Date', 'Invoice Date', 'date'),
      typed('Due_Date', 'Due Date', 'date'), ...totals, desc],
  },
  {
    apiName: 'Vendors', moduleName: 'Vendors', singular: 'Vendor', plural: 'Vendors', nameField: 'Vendor_Name',
    fields: [mand('Vendor_Name', 'Vendor Name', { maxLength: 120 }), typed('Email', 'Email', 'email', { maxLength: 100 }),
      typed('Phone', 'Phone', 'phone', { maxLength: 30 }), typed('Website', 'Website', 'website'),
      t('Category', 'Category', { maxLength: 40 }), desc],
  },
  {
    apiName: 'Cases', moduleName: 'Cases', singular: 'Case', plural: 'Cases', nameField: 'Subject',
    fields: [mand('Subject', 'Subject'), pick('Status', 'Status', ['New', 'On Hold', 'Escalated', 'Closed']),
      pick('Priority', 'Priority', ['-None-', 'High', 'Medium', 'Low']),
      pick('Case_Origin', 'Case Origin', ['-None-', 'Email', 'Phone', 'Web']),
      lookup('Account_Name', 'Account Name', 'Accounts'), desc],
  },
  {
    apiName: 'Solutions', moduleName: 'Solutions', singular: 'Solution', plural: 'Solutions', nameField: 'Solution_Title',
    fields: [mand('Solution_Title', 'Solution Title'), pick('Status', 'Status', ['Draft', 'Reviewed', 'Published']),
      typed('Question', 'Question', 'textarea', { maxLength: 32000 }), typed('Answer', 'Answer', 'textarea', { maxLength: 32000 })],
  },
  {
    // Emails a user sent about a record, logged by their mail system (Zoho's SalesInbox tracking).
    apiName: 'Emails', moduleName: 'Emails', singular: 'Email', plural: 'Emails', nameField: 'Subject', dependent: 'parent_id',
    creatable: false,
    fields: [mand('Subject', 'Subject', { maxLength: 500 }), typed('From', 'From', 'email', { maxLength: 100 }),
      typed('To', 'To', 'email', { mandatory: true, maxLength: 100 }), typed('Cc', 'Cc', 'text', { maxLength: 1000 }),
      typed('Content', 'Content', 'textarea', { maxLength: 32000 }), typed('Sent_Time', 'Sent Time', 'datetime'),
      lookup('Parent_Id', 'Parent ID', '*', { mandatory: true })],
  },
];

/** System fields every module carries; none of them can be written through the API except Owner. */
export const SYSTEM_FIELDS: readonly FieldDef[] = [
  typed('Owner', 'Owner', 'ownerlookup'),
  typed('Created_By', 'Created By', 'userlookup', { readOnly: true }),
  typed('Modified_By', 'Modified By', 'userlookup', { readOnly: true }),
  typed('Created_Time', 'Created Time', 'datetime', { readOnly: true }),
  typed('Modified_Time', 'Modified Time', 'datetime', { readOnly: true }),
];

const byName = new Map(STANDARD_MODULES.map((m) => [m.apiName.toLowerCase(), m]));

/** A module's own fields and the system fields every record has. */
export function allFields(m: ModuleDef): FieldDef[] {
  return [...m.fields, ...SYSTEM_FIELDS];
}

/** Finds a module by api name, case-insensitively as Zoho does; undefined when unknown. */
export function findModule(apiName: string): ModuleDef | undefined {
  return byName.get(apiName.toLowerCase());
}

const fieldIndex = new Map<string, Map<string, FieldDef>>(
  STANDARD_MODULES.map((m) => [m.apiName, new Map([...m.fields, ...SYSTEM_FIELDS].map((f) => [f.apiName, f]))]),
);

export function moduleFields(module: ModuleDef): Map<string, FieldDef> {
  return fieldIndex.get(module.apiName)!;
}

/**
 * Stable per-organisation ids for metadata (modules, fields): the organisation id plus a small
 * offset, so they look like Zoho ids and never change between restarts.
 */
export function metadataId(orgId: string, moduleIndex: number, fieldIndex = -1): string {
  return (BigInt(orgId) - 1_000_000n + BigInt(moduleIndex) * 1000n + BigInt(fieldIndex + 1)).toString();
}

export function moduleIndex(module: ModuleDef): number {
  return STANDARD_MODULES.indexOf(module);
}

/** The display name of a record from its values. */
export function recordName(module: ModuleDef, values: Record<string, unknown>): string | null {
  if (module.nameField === 'Full_Name') {
    const name = [values.First_Name, values.Last_Name].filter((v) => typeof v === 'string' && v).join(' ');
    return name || null;
  }
  const v = values[module.nameField];
  if (typeof v === 'string' && v) return v;
  if (module.apiName === 'Notes' && typeof values.Note_Content === 'string') return values.Note_Content.slice(0, 120);
  return null;
}

/** Resolves a module api name; INVALID_MODULE (resource_path_index 0) when unknown. */
export function requireModule(apiName: string): ModuleDef {
  const m = findModule(apiName);
  if (!m) throw new AppError('INVALID_MODULE', 'the module name given seems to be invalid', { resource_path_index: 0 });
  return m;
}
