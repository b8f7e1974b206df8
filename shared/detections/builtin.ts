/**
 * The ids of the built-in rules (one YAML file each in ./rules/, checked by the detections
 * test), for what cannot read the folder: the sample generator's attack scenarios, the
 * query API's `rules` variable and the plugin's rule picker.
 */
export const BUILTIN_RULES = [
  'password-brute-force-ip',
  'password-brute-force-user',
  'password-spraying',
  'login-success-after-failures',
  'role-change-to-admin',
  'admin-login-new-ip',
  'agent-deactivation-burst',
  'configuration-deletion-burst',
  'password-reset-burst',
  'credential-created',
] as const;
