// The transitive relationship count of a profile's tables, as publish
// counts it: a table's count is the sum, over its selected relationships,
// of 1 plus the count of the table the relationship leads to. Each unit
// is one chain from the table, so the 16th chain is the one to name.
import type { Item, Relationship } from "../shared/server";

export const maxRelationships = 15;

export type Count = { table: string; count: number; over?: string };

function step(r: Relationship): string {
  return `-[${r.name} ${r.kind}]-> ${r.related}`;
}

/** relationshipCounts counts every item's chains, stopping just past the limit. */
export function relationshipCounts(items: Item[], rels: Record<string, Relationship[]>): Count[] {
  const byTable = new Map(items.map((it) => [it.table, it]));
  return items.map((it) => {
    let count = 0;
    let over: string | undefined;
    const walk = (table: string, chain: string, seen: Set<string>) => {
      const item = byTable.get(table);
      for (const name of item?.relationships ?? []) {
        if (count > maxRelationships) return;
        const r = (rels[table] ?? []).find((x) => x.name === name);
        if (!r) continue;
        const next = `${chain} ${step(r)}`;
        count++;
        if (count === maxRelationships + 1) over = next;
        if (byTable.has(r.related) && !seen.has(r.related)) walk(r.related, next, new Set([...seen, r.related]));
      }
    };
    walk(it.table, it.table, new Set([it.table]));
    return { table: it.table, count: Math.min(count, maxRelationships + 1), over };
  });
}

/** rulesFor is the rules a table's ownership type allows, as the server checks them. */
export function rulesFor(ownership: string): Rule[] {
  switch (ownership) {
    case "user":
      return ["related", "all", "organization", "custom"];
    case "organization":
      return ["related", "all", "custom"];
    case "business":
      return ["related", "all", "organization", "custom"];
    default:
      return ["related"];
  }
}

type Rule = Item["rule"];

export const ruleLabels: Record<Rule, string> = {
  related: "Related rows only",
  all: "All rows",
  organization: "Organization rows",
  custom: "Custom",
};
