import { TABLES, TABLE_NAMES } from '../tables.js';

export interface SnowflakeSetupInput {
  role?: string;
  user?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  /** The public key (PEM body without header lines), when known. */
  publicKey?: string;
}

export const SNOWFLAKE_DEFAULTS = { role: 'TRIBUTARY_ROLE', user: 'TRIBUTARY_USER', warehouse: 'TRIBUTARY_WH', database: 'NYLAS_DATABASE', schema: 'DATA_STREAMS' };

/**
 * The SQL script the user runs once as ACCOUNTADMIN (the dashboard shows it, filled in with
 * the form's values): a role owning a database and schema, an x-small auto-suspending
 * warehouse, and a service user that signs in with the key pair only. The destination then
 * creates and migrates its tables itself; they are listed for reference.
 */
export function snowflakeSetupScript(input: SnowflakeSetupInput = {}): string {
  const v = { ...SNOWFLAKE_DEFAULTS, ...Object.fromEntries(Object.entries(input).filter(([, x]) => x)) } as typeof SNOWFLAKE_DEFAULTS & { publicKey?: string };
  const key = v.publicKey ? v.publicKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '') : '<paste the public key: the lines between BEGIN PUBLIC KEY and END PUBLIC KEY>';
  return `-- Tributary → Snowflake setup (run as ACCOUNTADMIN)
-- Create the key pair first:
--   openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out rsa_key.p8 -nocrypt
--   openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub
USE ROLE ACCOUNTADMIN;
CREATE ROLE IF NOT EXISTS ${v.role};
CREATE WAREHOUSE IF NOT EXISTS ${v.warehouse} WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;
GRANT USAGE ON WAREHOUSE ${v.warehouse} TO ROLE ${v.role};
CREATE DATABASE IF NOT EXISTS ${v.database};
GRANT OWNERSHIP ON DATABASE ${v.database} TO ROLE ${v.role} COPY CURRENT GRANTS;
CREATE SCHEMA IF NOT EXISTS ${v.database}.${v.schema};
GRANT OWNERSHIP ON SCHEMA ${v.database}.${v.schema} TO ROLE ${v.role} COPY CURRENT GRANTS;
CREATE USER IF NOT EXISTS ${v.user} TYPE = SERVICE DEFAULT_ROLE = ${v.role} DEFAULT_WAREHOUSE = ${v.warehouse};
ALTER USER ${v.user} SET RSA_PUBLIC_KEY = '${key}';
GRANT ROLE ${v.role} TO USER ${v.user};
-- Tributary creates these tables in ${v.database}.${v.schema} (and adds columns when its layout grows):
${TABLE_NAMES.map((t) => `--   ${t.toUpperCase()} (primary key ${TABLES[t].primaryKey.join(', ').toUpperCase()})`).join('\n')}
--   and transient staging tables _TRIBUTARY_STAGE_<TABLE>
`;
}
