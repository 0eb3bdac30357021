/** What a topic ARN looks like: the config schema (definition.ts) checks it without loading the AWS SDK the client needs. */
export const TOPIC_ARN_PATTERN = '^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$';
