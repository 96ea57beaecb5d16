// Personal data masked as support-bot's system message asks, and a profile as text.

/** `alex.carter@gmail.com` → `a***@gmail.com`. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  return at > 0 ? `${email[0]}***${email.slice(at)}` : '***';
}

/** `+44 7700 900123` → `+44 *** *** 123`: the country code and the last 3 digits. */
export function maskPhone(phone: string): string {
  const last = phone.replace(/\D/g, '').slice(-3);
  const country = /^\s*(\+\d{1,3})[\s-]/.exec(phone)?.[1];
  return `${country ? `${country} ` : ''}*** *** ${last}`;
}

/** `42 King Street, Manchester M2 7HE, United Kingdom` → `Manchester, United Kingdom`. */
export function maskAddress(address: string): string {
  const parts = address.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length < 2) return '***';
  const country = parts.at(-1)!;
  // The city is the part before the country, without its postcode (trailing words with digits).
  for (let i = parts.length - 2; i >= 0; i--) {
    const words = parts[i]!.split(/\s+/);
    while (words.length > 0 && /\d/.test(words.at(-1)!)) words.pop();
    if (words.length > 0 && i > 0) return `${words.join(' ')}, ${country}`;
  }
  return country;
}

/** `1987-03-14` → `1987`. */
export function maskDob(dob: string): string {
  return /\b(\d{4})\b/.exec(dob)?.[1] ?? '****';
}

/** `QQ 12 34 56 C` → `QQ ** ** ** C`. */
export function maskNiNumber(ni: string): string {
  const compact = ni.replace(/\s+/g, '').toUpperCase();
  return compact.length >= 3 ? `${compact.slice(0, 2)} ** ** ** ${compact.slice(-1)}` : '** ** ** ** *';
}

const MASKS: Readonly<Record<string, (value: string) => string>> = {
  email: maskEmail,
  phone: maskPhone,
  address: maskAddress,
  dob: maskDob,
  date_of_birth: maskDob,
  ni_number: maskNiNumber,
  national_insurance_number: maskNiNumber,
};

/** A copy of a customer profile with email, phone, address, date of birth and NI number masked as support-bot's system message asks. */
export function maskPii(profile: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(profile).map(([key, value]) => {
      const mask = MASKS[key];
      return [key, mask && typeof value === 'string' ? mask(value) : value];
    }),
  );
}

const PROFILE_LABELS: ReadonlyArray<[string, string]> = [
  ['name', 'Name'],
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['address', 'Address'],
  ['dob', 'Date of birth'],
  ['ni_number', 'NI number'],
  ['kyc_status', 'KYC status'],
];

export function profileText(profile: Record<string, unknown>): string {
  const lines = PROFILE_LABELS.filter(([key]) => typeof profile[key] === 'string').map(([key, label]) => `- ${label}: ${String(profile[key])}`);
  return ['Your profile:', ...lines].join('\n');
}
