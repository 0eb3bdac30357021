/** Kysely types of the tables owned by the delivery part (its migrations live beside the others). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DeliveryTables {}
