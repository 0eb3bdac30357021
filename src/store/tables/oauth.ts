/** Kysely types of the tables owned by the oauth part (its migrations live beside the others). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface OAuthTables {}
