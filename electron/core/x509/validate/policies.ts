/**
 * The valid_policy_tree of RFC 5280 §6.1.2 (a), §6.1.3 (d)-(f), §6.1.4 (a)-(b), (h)-(j) and
 * §6.1.5 (a)-(g). Nodes carry valid_policy and expected_policy_set; qualifiers play no part in
 * the verdict and are left out.
 */
import { OIDS, type CertificateModel } from '../model';

interface Node {
  policy: string;
  expected: Set<string>;
  parent?: Node;
  children: Node[];
}

const ANY = OIDS.anyPolicy;

export class PolicyState {
  private levels: Node[][] | null;
  explicitPolicy: number;
  policyMapping: number;
  inhibitAnyPolicy: number;

  constructor(
    private readonly n: number,
    private readonly initial: { policies: string[]; requireExplicit: boolean; inhibitMapping: boolean; inhibitAny: boolean },
  ) {
    this.levels = [[{ policy: ANY, expected: new Set([ANY]), children: [] }]];
    this.explicitPolicy = initial.requireExplicit ? 0 : n + 1;
    this.policyMapping = initial.inhibitMapping ? 0 : n + 1;
    this.inhibitAnyPolicy = initial.inhibitAny ? 0 : n + 1;
  }

  private prune(): void {
    if (!this.levels) return;
    for (let d = this.levels.length - 2; d >= 0; d--) {
      this.levels[d] = this.levels[d].filter((node) => node.children.length > 0);
      for (const node of this.levels[d]) node.children = node.children.filter((c) => this.levels![d + 1].includes(c));
    }
    if (!this.levels[0].length) this.levels = null;
  }

  /** §6.1.3 (d)-(f) for certificate i (1-based); returns why the path fails, if it does. */
  process(c: CertificateModel, i: number): string | undefined {
    const policies = c.policies;
    if (policies && this.levels) {
      const prev = this.levels[i - 1];
      const cur: Node[] = [];
      const add = (parent: Node, policy: string, expected: Set<string>) => {
        const node: Node = { policy, expected, parent, children: [] };
        parent.children.push(node);
        cur.push(node);
      };
      for (const p of policies) {
        if (p.oid === ANY) continue;
        const parents = prev.filter((n) => n.expected.has(p.oid));
        for (const parent of parents.length ? parents : prev.filter((n) => n.policy === ANY)) add(parent, p.oid, new Set([p.oid]));
      }
      if (policies.some((p) => p.oid === ANY) && (this.inhibitAnyPolicy > 0 || (i < this.n && c.selfIssued))) {
        for (const parent of prev)
          for (const e of parent.expected) if (!parent.children.some((ch) => ch.policy === e)) add(parent, e, new Set([e]));
      }
      this.levels.push(cur);
      this.prune();
      if (this.levels && !this.levels[i]?.length) this.levels = null;
    } else {
      this.levels = null;
    }
    if (this.explicitPolicy <= 0 && !this.levels) return `certificate ${i} leaves no valid policy while an explicit policy is required`;
    return undefined;
  }

  /** §6.1.4 (a)-(b), (h)-(j): policy mappings and the counters, for an intermediate certificate. */
  prepareNext(c: CertificateModel, i: number): string | undefined {
    for (const m of c.policyMappings ?? []) if (m.issuerDomain === ANY || m.subjectDomain === ANY) return `certificate ${i} maps anyPolicy`;
    if (c.policyMappings && this.levels) {
      const level = this.levels[i];
      const byIssuer = new Map<string, Set<string>>();
      for (const m of c.policyMappings) byIssuer.set(m.issuerDomain, (byIssuer.get(m.issuerDomain) ?? new Set()).add(m.subjectDomain));
      for (const [idp, sdps] of byIssuer) {
        const nodes = level.filter((n) => n.policy === idp);
        if (this.policyMapping > 0) {
          if (nodes.length) for (const n of nodes) n.expected = new Set(sdps);
          else {
            const any = level.find((n) => n.policy === ANY);
            if (any?.parent) {
              const node: Node = { policy: idp, expected: new Set(sdps), parent: any.parent, children: [] };
              any.parent.children.push(node);
              level.push(node);
            }
          }
        } else {
          this.levels[i] = level.filter((n) => n.policy !== idp);
          for (const n of nodes) n.parent!.children = n.parent!.children.filter((x) => x !== n);
          this.prune();
        }
      }
    }
    if (!c.selfIssued) {
      if (this.explicitPolicy > 0) this.explicitPolicy--;
      if (this.policyMapping > 0) this.policyMapping--;
      if (this.inhibitAnyPolicy > 0) this.inhibitAnyPolicy--;
    }
    const pc = c.policyConstraints;
    if (pc?.requireExplicitPolicy !== undefined) this.explicitPolicy = Math.min(this.explicitPolicy, pc.requireExplicitPolicy);
    if (pc?.inhibitPolicyMapping !== undefined) this.policyMapping = Math.min(this.policyMapping, pc.inhibitPolicyMapping);
    if (c.inhibitAnyPolicy !== undefined) this.inhibitAnyPolicy = Math.min(this.inhibitAnyPolicy, c.inhibitAnyPolicy);
    return undefined;
  }

  /** §6.1.5: the end of the path. The user's initial policy set narrows the tree; an explicit policy must remain. */
  finish(leaf: CertificateModel): { problem?: string; policies: string[] } {
    if (this.explicitPolicy > 0) this.explicitPolicy--;
    if (leaf.policyConstraints?.requireExplicitPolicy === 0) this.explicitPolicy = 0;
    let leaves = this.levels ? this.levels[this.levels.length - 1] : [];
    const want = this.initial.policies;
    if (!want.includes(ANY)) {
      // A node is kept when its policy is wanted, or it descends only from anyPolicy and is anyPolicy itself.
      leaves = leaves.filter((n) => want.includes(n.policy) || (n.policy === ANY));
      if (leaves.some((n) => n.policy === ANY)) leaves = [...leaves.filter((n) => n.policy !== ANY), ...want.map((p) => ({ policy: p, expected: new Set([p]), children: [] }))];
    }
    const policies = [...new Set(leaves.map((n) => n.policy))];
    if (this.explicitPolicy <= 0 && policies.length === 0) return { problem: 'the path leaves no valid policy while an explicit policy is required', policies };
    if (!want.includes(ANY) && policies.length === 0) return { problem: `none of the required policies (${want.join(', ')}) is valid for the path`, policies };
    return { policies };
  }
}
