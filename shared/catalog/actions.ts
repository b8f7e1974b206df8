/**
 * The action catalog: every `event.action` Closer documents, as data.
 * Ingest flags unknown actions with it, the query model validates filters with it,
 * the plugin builds its action picker from it. Edit here, nowhere else.
 */

export const AREAS = {
  org: 'Organization',
  widget: 'Widget',
  forms: 'Widget forms',
  agent: 'Agents',
  auth: 'Authentication',
  bot: 'Bot',
  ai_suggestions: 'AI suggestions',
  oauth: 'OAuth',
  proactive_messages: 'Proactive messages',
  profanities: 'Profanities',
  tag_mapping: 'Tag mapping',
  topics: 'Topics',
} as const;

export type Area = keyof typeof AREAS;

export type Verb =
  | 'creation'
  | 'change'
  | 'deletion'
  | 'login'
  | 'logout'
  | 'password_reset'
  | 'deactivation'
  | 'restore'
  | 'invitation'
  | 'acceptance'
  | 'authorization';

/** ECS `event.category` values Closer uses for an action; also what the sample feed emits. */
export type EcsCategory = 'configuration' | 'authentication' | 'iam' | 'web';

export interface ActionInfo {
  action: string;
  description: string;
  area: Area;
  verb: Verb;
  category: EcsCategory;
}

type Row = [action: string, area: Area, verb: Verb, category: EcsCategory, description: string];

// Descriptions are Closer's own wording from its reference, lightly capitalised.
const ROWS: Row[] = [
  ['org_config_change', 'org', 'change', 'configuration', 'Change made to general config of organization'],
  ['free_org_creation', 'org', 'creation', 'configuration', 'Creation of org with free plan'],
  ['stripe_org_creation', 'org', 'creation', 'configuration', 'Creation of org with paid plan'],
  ['widget_logo_creation', 'widget', 'creation', 'configuration', 'Creation of new logo on widget header'],
  ['widget_logo_deletion', 'widget', 'deletion', 'configuration', 'Deletion of logo on widget header'],
  [
    'widget_background_creation',
    'widget',
    'creation',
    'configuration',
    'Creation of new background image on widget header',
  ],
  [
    'widget_background_deletion',
    'widget',
    'deletion',
    'configuration',
    'Deletion of background image on widget header',
  ],
  ['agent_profile_change', 'agent', 'change', 'iam', 'Change made to agent profile'],
  ['agent_deactivation', 'agent', 'deactivation', 'iam', 'Agent deactivation in organization'],
  ['agent_restore', 'agent', 'restore', 'iam', 'Agent restore in organization'],
  ['agent_login', 'auth', 'login', 'authentication', 'Agent login to Closer using email and password'],
  ['agent_login_with_magic_link', 'auth', 'login', 'authentication', 'Agent login using magic link'],
  ['agent_logout', 'auth', 'logout', 'authentication', 'Agent logout from Closer'],
  ['agent_password_change', 'auth', 'change', 'authentication', 'Agent password change from settings'],
  [
    'agent_password_change_with_token',
    'auth',
    'change',
    'authentication',
    'Agent password change using token',
  ],
  ['agent_password_reset', 'auth', 'password_reset', 'authentication', 'Agent password reset request'],
  ['agent_skills_change', 'agent', 'change', 'configuration', "Change of agent's skills"],
  [
    'agent_preferences_change',
    'agent',
    'change',
    'configuration',
    'Change of agent preferences about notifications and inbox sorting',
  ],
  [
    'agent_limit_change',
    'agent',
    'change',
    'configuration',
    'Change of agent assigned conversations limit, currently not used',
  ],
  ['agent_role_change', 'agent', 'change', 'iam', "Change of agent's role, from admin or to admin"],
  ['agent_invitation', 'agent', 'invitation', 'iam', 'Invitation to organization for new agent'],
  [
    'agent_invitation_acceptation',
    'agent',
    'acceptance',
    'iam',
    'Invitation to organization accepted from new agent',
  ],
  ['agent_avatar_creation', 'agent', 'creation', 'configuration', 'Creation of new agent avatar'],
  ['agent_avatar_deletion', 'agent', 'deletion', 'configuration', 'Deletion of agent avatar'],
  [
    'unavailability_reason_creation',
    'agent',
    'creation',
    'configuration',
    'Creation of unavailability reason for agent on unavailable status',
  ],
  [
    'unavailability_reason_change',
    'agent',
    'change',
    'configuration',
    'Change of unavailability reason for agent on unavailable status',
  ],
  [
    'unavailability_reason_deletion',
    'agent',
    'deletion',
    'configuration',
    'Deletion of unavailability reason for agent on unavailable status',
  ],
  ['bot_type_change', 'bot', 'change', 'configuration', 'Change of bot type in Closer'],
  [
    'lekta_config_creation',
    'bot',
    'creation',
    'configuration',
    'Creation of Lekta integration config for bot',
  ],
  ['lekta_config_change', 'bot', 'change', 'configuration', 'Change in Lekta integration config for bot'],
  [
    'event_action_config_creation',
    'bot',
    'creation',
    'configuration',
    'Creation of event action config, response that is sent by bot on specific event',
  ],
  ['event_action_config_change', 'bot', 'change', 'configuration', 'Change of event action config'],
  ['event_action_config_deletion', 'bot', 'deletion', 'configuration', 'Deletion of event action config'],
  [
    'ai_suggestions_config_change',
    'ai_suggestions',
    'change',
    'configuration',
    'Change on AI suggestions config',
  ],
  [
    'ai_suggestions_intent_creation',
    'ai_suggestions',
    'creation',
    'configuration',
    'Creation of AI suggestions intent',
  ],
  [
    'ai_suggestions_intent_change',
    'ai_suggestions',
    'change',
    'configuration',
    'Change of AI suggestions intent',
  ],
  [
    'ai_suggestions_intent_deletion',
    'ai_suggestions',
    'deletion',
    'configuration',
    'Deletion of AI suggestions intent',
  ],
  [
    'ai_suggestions_dataset_creation',
    'ai_suggestions',
    'creation',
    'configuration',
    'Creation of AI suggestions dataset for NLU',
  ],
  [
    'ai_suggestions_dataset_change',
    'ai_suggestions',
    'change',
    'configuration',
    'Change of AI suggestions dataset for NLU',
  ],
  [
    'ai_suggestions_dataset_deletion',
    'ai_suggestions',
    'deletion',
    'configuration',
    'Deletion of AI suggestions dataset for NLU',
  ],
  [
    'widget_form_config_creation',
    'forms',
    'creation',
    'configuration',
    'Creation of widget form config to display for customer on widget',
  ],
  ['widget_form_config_change', 'forms', 'change', 'configuration', 'Change of widget form config'],
  ['widget_form_config_deletion', 'forms', 'deletion', 'configuration', 'Deletion of widget form config'],
  [
    'oauth_authorization',
    'oauth',
    'authorization',
    'authentication',
    'Authorization of customer using OAuth',
  ],
  [
    'oauth_config_creation',
    'oauth',
    'creation',
    'configuration',
    'Creation of OAuth config for customer authorization',
  ],
  ['oauth_config_change', 'oauth', 'change', 'configuration', 'Change of OAuth config'],
  ['oauth_config_deletion', 'oauth', 'deletion', 'configuration', 'Deletion of OAuth config'],
  [
    'proactive_messages_config_creation',
    'proactive_messages',
    'creation',
    'configuration',
    'Creation of proactive message config displayed over widget',
  ],
  [
    'proactive_messages_config_change',
    'proactive_messages',
    'change',
    'configuration',
    'Change of proactive message config',
  ],
  [
    'proactive_messages_config_deletion',
    'proactive_messages',
    'deletion',
    'configuration',
    'Deletion of proactive message config',
  ],
  [
    'profanities_config_creation',
    'profanities',
    'creation',
    'configuration',
    'Creation of profanities config that is used to block some words for sending',
  ],
  ['profanities_config_change', 'profanities', 'change', 'configuration', 'Change of profanities config'],
  [
    'tag_mapping_config_creation',
    'tag_mapping',
    'creation',
    'configuration',
    'Creation of tag mapping config for tagging customers on specific page',
  ],
  ['tag_mapping_config_change', 'tag_mapping', 'change', 'configuration', 'Change of tag mapping config'],
  [
    'tag_mapping_config_deletion',
    'tag_mapping',
    'deletion',
    'configuration',
    'Deletion of tag mapping config',
  ],
  ['org_topic_creation', 'topics', 'creation', 'configuration', 'Creation of topic in org'],
  ['org_topic_change', 'topics', 'change', 'configuration', 'Change of topic in org'],
  ['org_topic_deletion', 'topics', 'deletion', 'configuration', 'Deletion of topic in org'],
];

export const ACTIONS: readonly ActionInfo[] = Object.freeze(
  ROWS.map(([action, area, verb, category, description]) =>
    Object.freeze({ action, area, verb, category, description }),
  ),
);

const BY_NAME = new Map(ACTIONS.map((a) => [a.action, a]));

export function lookupAction(action: string | null | undefined): ActionInfo | undefined {
  return action == null ? undefined : BY_NAME.get(action);
}
