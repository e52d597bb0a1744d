import type { Inventory } from '../config/normalise-inventory';

// Members of the Slack user groups the inventory names as requesters, approvers or admins, kept in
// memory and refreshed in the background: checks on a click must be quick and never wait on Slack.

export interface UserGroupSource {
  members(groupId: string): Promise<readonly string[]>;
}

export class UserGroups {
  private byUser = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inventory: Inventory,
    private readonly source: UserGroupSource,
    private readonly onError: (groupId: string, err: unknown) => void = () => undefined,
  ) {}

  /** Group ids named anywhere in the inventory's access rules. */
  groupIds(): string[] {
    const ids = new Set<string>();
    for (const c of Object.values(this.inventory.clusters)) {
      for (const p of [c.access.requesters, c.access.approvers, c.access.admins])
        p.groups.forEach((g) => ids.add(g));
    }
    return [...ids].sort();
  }

  /** Reads every group; a group Slack does not answer for keeps its last known members. */
  async refresh(): Promise<void> {
    const next = new Map<string, string[]>();
    const previous = this.byUser;
    for (const g of this.groupIds()) {
      let users: readonly string[];
      try {
        users = await this.source.members(g);
      } catch (err) {
        this.onError(g, err);
        users = [...previous].filter(([, gs]) => gs.includes(g)).map(([u]) => u);
      }
      for (const u of users) next.set(u, [...(next.get(u) ?? []), g]);
    }
    this.byUser = next;
  }

  groupsOf = (user: string): readonly string[] => this.byUser.get(user) ?? [];

  start(everyMs = 5 * 60_000): void {
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
