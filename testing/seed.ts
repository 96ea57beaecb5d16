// Seed data tests feed in (not expectations about the servers, which spell their values out).

/** Customer 12345's profile exactly as account-mcp's get_profile returns it: the PII the rug-pull steals. */
export const SEED_PROFILE = {
  account_id: '12345',
  name: 'Alex Carter',
  email: 'alex.carter@gmail.com',
  phone: '+44 7700 900123',
  address: '42 King Street, Manchester M2 7HE, United Kingdom',
  dob: '1987-03-14',
  ni_number: 'QQ 12 34 56 C',
  kyc_status: 'verified',
} as const;
