import { z } from 'zod';
import { reportScheduleSchema } from './report-schedules';

// The raw inventory file as a person writes it. Defaults and derived paths are filled in by
// normaliseInventory; rules that span fields live in inventoryProblems.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ALL_NUMERIC = /^[\d.]+$/;

export const isHost = (value: string): boolean =>
  IPV4.test(value) || (!ALL_NUMERIC.test(value) && HOSTNAME.test(value));

export const hostSchema = z
  .string()
  .refine(isHost, { message: 'not an IPv4 address or hostname' })
  .describe('IPv4 address or DNS hostname');

export const portSchema = z
  .number({ error: 'must be a port number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be between 1 and 65535' })
  .max(65535, { error: 'must be between 1 and 65535' });

// Paths end up in shell commands (quoted), in config files (pgpool.conf, recovery.conf) and in
// messages: a plain character set keeps quotes, newlines and look-alikes out of all of them.
const PATH_CHARS = /^[A-Za-z0-9._/+@%,:=~{}-]*$/;

export const absolutePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'must be an absolute path without ".."',
  })
  .refine((p) => PATH_CHARS.test(p), {
    message:
      'may hold only letters, digits and . _ - + @ % , : = ~ { } / (no spaces, quotes or control characters)',
  });

// Database and PCP user and database names go into connection strings (primary_conninfo) and
// pcp/psql arguments: identifiers only, so none can smuggle a second key=value or an option.
const dbIdentSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, {
  message: 'must be an identifier: a letter or _, then letters, digits, _, $ or - (at most 63)',
});

/** Secrets are never written in the inventory: only where to find them. */
export const secretRefSchema = z
  .union(
    [
      z.strictObject({
        env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'not a valid environment variable name' })
          .describe('name of an environment variable holding the secret'),
      }),
      z.strictObject({
        file: absolutePathSchema.describe(
          'absolute path of a file holding the secret (trailing newline ignored)',
        ),
      }),
    ],
    {
      error: (issue) =>
        typeof issue.input === 'string' || typeof issue.input === 'number'
          ? 'literal secrets are not allowed in the inventory: use { env: VAR_NAME } or { file: /path/to/secret }'
          : 'expected a secret reference: { env: VAR_NAME } or { file: /path/to/secret }',
    },
  )
  .describe('secret reference: { env: NAME } or { file: /abs/path }');

export const fingerprintSchema = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, {
  message: 'not an OpenSSH SHA256 fingerprint (SHA256:<43 base64 chars>)',
});

// Node names become application_name and part of replication slot names (slot_<name>), which
// PostgreSQL and KingbaseES allow only in lower-case letters, digits and underscores.
export const nodeNameSchema = z.string().regex(/^[a-z0-9_]{1,58}$/, {
  message: 'node names may use only a-z, 0-9 and _ (at most 58): they become application_name and slot names',
});

export const dialectSchema = z
  .enum(['kingbase-v8r3', 'postgresql'], { error: 'unknown dialect: use kingbase-v8r3 or postgresql' })
  .describe('database dialect');

const nodeSchema = z.strictObject({
  name: nodeNameSchema.describe('node name; also its application_name and slot suffix'),
  host: hostSchema,
  sshPort: portSchema.optional().describe('SSH port (default: ssh.port)'),
  sqlPort: portSchema.optional().describe('SQL port (default: cluster sqlPort)'),
  clusterPath: absolutePathSchema.optional().describe('per-node override of the cluster path'),
  dataDir: absolutePathSchema.optional().describe('data directory (default: <clusterPath>/db/data)'),
  binDir: absolutePathSchema.optional().describe('database tools directory (default: <clusterPath>/db/bin)'),
  hostKeys: z
    .array(fingerprintSchema)
    .min(1)
    .optional()
    .describe(
      'pinned SSH host key fingerprints; when given, the only keys accepted for this node (known_hosts then counts only for @revoked lines)',
    ),
});

const managerNodeSchema = z.strictObject({
  node: nodeNameSchema.describe('name of the data node whose host runs this manager'),
  host: hostSchema.optional().describe('address the manager listens on, e.g. a VIP (default: the node host)'),
  sqlPort: portSchema.default(9999).describe('pooled SQL port'),
  pcpPort: portSchema.default(9898).describe('PCP port'),
  configFile: absolutePathSchema.describe('path of kingbasecluster.conf / pgpool.conf on that host'),
  logFile: absolutePathSchema
    .optional()
    .describe("the manager's log on that host, quoted when a failover drill sees no promotion"),
});

const managerSchema = z.strictObject({
  kind: z
    .enum(['kingbasecluster', 'pgpool'], { error: 'unknown manager kind: use kingbasecluster or pgpool' })
    .describe('cluster manager product'),
  pcpUser: dbIdentSchema.optional().describe('PCP user (default: db.user)'),
  binDir: absolutePathSchema
    .optional()
    .describe(
      'directory of the manager and pcp_* tools (default: /usr/sbin for pgpool, <clusterPath>/kingbasecluster/bin)',
    ),
  pcpPassword: secretRefSchema.optional().describe('PCP password (default: db.password)'),
  nodes: z
    .array(managerNodeSchema)
    .min(1, { error: 'list at least one manager node' })
    .describe('hosts running the manager (V8R3: at most two)'),
});

const slackIdList = z.array(
  z.string().regex(/^[A-Z0-9]{2,20}$/, { message: 'not a Slack id (like U012AB3CD)' }),
);
const principalsSchema = z
  .strictObject({
    users: slackIdList.default([]).describe('Slack user ids'),
    groups: slackIdList.default([]).describe('Slack user group ids (S…)'),
  })
  .default({ users: [], groups: [] });

const accessSchema = z
  .strictObject({
    requesters: principalsSchema.describe('who may plan and request runs'),
    approvers: principalsSchema.describe('who may approve them'),
    admins: principalsSchema.describe('who may force a lock open'),
    channels: slackIdList.default([]).describe('channels where the cluster may be operated (empty: any)'),
    approvals: z.number().int().min(1).max(5).default(1).describe('distinct approvals every run needs'),
    allowSelfApproval: z.boolean().default(false).describe('let requesters approve their own runs'),
    approvalTtlMinutes: z.number().int().min(1).default(60).describe('how long a plan waits for approval'),
    autoRollback: z.boolean().default(true).describe('roll back at once when a step fails'),
  })
  .default({
    requesters: { users: [], groups: [] },
    approvers: { users: [], groups: [] },
    admins: { users: [], groups: [] },
    channels: [],
    approvals: 1,
    allowSelfApproval: false,
    approvalTtlMinutes: 60,
    autoRollback: true,
  });

// The default is libpq's: TLS when the server offers it. Whatever the mode, kbops never sends the
// password in clear text over a connection without TLS (see pg-sql-client).
export const tlsModeSchema = z
  .enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'], {
    error: 'unknown TLS mode: use disable, prefer, require, verify-ca or verify-full',
  })
  .describe(
    'as libpq sslmode: prefer uses TLS when the server offers it; require insists on it; verify-ca also checks the certificate chain; verify-full also its host name',
  );

const dbTlsSchema = z
  .strictObject({
    mode: tlsModeSchema.default('prefer'),
    caFile: absolutePathSchema
      .optional()
      .describe(
        "PEM file of the CA that signed the servers' certificates (required by verify-ca and verify-full)",
      ),
  })
  .default({ mode: 'prefer' })
  .describe('TLS for SQL connections; a cleartext password request without TLS is always refused');

const clusterSchema = z
  .strictObject({
    dialect: dialectSchema,
    clusterPath: absolutePathSchema.describe(
      'cluster install path, e.g. /home/kingbase/cluster/ESHA; {name} stands for the node name',
    ),
    sqlPort: portSchema.optional().describe('default SQL port (kingbase-v8r3: 54321, postgresql: 5432)'),
    ssh: z
      .strictObject({
        user: z
          .string()
          .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'not a valid OS user name' })
          .describe('OS user kbops logs in as, e.g. kingbase'),
        port: portSchema.default(22).describe('default SSH port of the nodes'),
        privateKeyFile: absolutePathSchema.describe('private key used to log in (mounted, never baked in)'),
        passphrase: secretRefSchema.optional().describe('passphrase of the private key'),
        knownHostsFile: absolutePathSchema.optional().describe('known_hosts file pinning the host keys'),
      })
      .describe('how kbops logs in to the hosts'),
    db: z
      .strictObject({
        user: dbIdentSchema.describe('database superuser, e.g. SYSTEM'),
        database: dbIdentSchema.describe('database to connect to, e.g. TEST'),
        password: secretRefSchema.describe('password of db.user'),
        tls: dbTlsSchema,
      })
      .describe('database login'),
    nodes: z
      .array(nodeSchema)
      .min(1, { error: 'list at least one node' })
      .describe('data nodes now in the cluster'),
    manager: managerSchema.optional().describe('the cluster manager (kingbasecluster / pgpool-II)'),
    access: accessSchema.describe('who may do what from Slack (nobody, unless listed)'),
    allowUnattendedCli: z
      .boolean()
      .default(false)
      .describe('let `kbops … --yes` run without Slack approval (labs only)'),
  })
  .describe('one cluster: a primary, its standbys and their manager');

export const CLUSTER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

export const inventorySchema = z.strictObject({
  clusters: z
    .record(
      z.string().regex(CLUSTER_NAME, { message: 'cluster names: a letter, then letters, digits, _ or -' }),
      clusterSchema,
    )
    .refine((c) => Object.keys(c).length > 0, { message: 'define at least one cluster' })
    .describe('clusters by name (letters, digits, _ and -)'),
  reports: z
    .record(
      z.string().regex(CLUSTER_NAME, { message: 'report names: a letter, then letters, digits, _ or -' }),
      reportScheduleSchema,
    )
    .optional()
    .describe('scheduled replication health reports by name (letters, digits, _ and -)'),
});

export type RawInventory = z.input<typeof inventorySchema>;
export type ParsedInventory = z.output<typeof inventorySchema>;
export type ParsedCluster = ParsedInventory['clusters'][string];
export type SecretRef = z.output<typeof secretRefSchema>;
export type Dialect = z.output<typeof dialectSchema>;
export type TlsMode = z.output<typeof tlsModeSchema>;
