/**
 * Topic matching as RabbitMQ does it: words separated by '.', '*' matches
 * exactly one word, '#' zero or more. A trie with dedicated '*' and '#'
 * children (nats' Sublist shape) plus a bounded cache of results that is
 * dropped on any bind or unbind.
 */
class TrieNode<T> {
  constructor(readonly id: number) {}
  readonly words = new Map<string, TrieNode<T>>();
  star: TrieNode<T> | null = null;
  hash: TrieNode<T> | null = null;
  readonly values: T[] = [];

  isEmpty(): boolean {
    return this.values.length === 0 && this.words.size === 0 && this.star === null && this.hash === null;
  }
}

/** RabbitMQ splits "" into no words at all: '#' matches it, '*' does not. */
export const splitTopic = (key: string): string[] => (key === "" ? [] : key.split("."));

const CACHE_LIMIT = 4096;

export class TopicTrie<T> {
  private nodeCount = 0;
  private readonly root = this.node();
  private cache = new Map<string, T[]>();

  private node(): TrieNode<T> {
    return new TrieNode<T>(this.nodeCount++);
  }

  add(pattern: string, value: T): void {
    let node = this.root;
    for (const word of splitTopic(pattern)) {
      if (word === "*") node = node.star ??= this.node();
      else if (word === "#") node = node.hash ??= this.node();
      else {
        let child = node.words.get(word);
        if (!child) node.words.set(word, (child = this.node()));
        node = child;
      }
    }
    node.values.push(value);
    this.cache.clear();
  }

  remove(pattern: string, value: T): void {
    this.removeAt(this.root, splitTopic(pattern), 0, value);
    this.cache.clear();
  }

  /** Values whose pattern matches `key`; a value bound by two patterns appears twice. */
  match(key: string): T[] {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const out: T[] = [];
    this.walk(this.root, splitTopic(key), 0, out, new Set());
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(key, out);
    return out;
  }

  /**
   * `hashVisits` holds the (hash node, word index) pairs already walked: a
   * pattern like '#.#.#' reaches the same pair along every way its '#'s can
   * split the key (exponential in the key's length, and each way would add
   * the values again). Every other node has one parent, so it is reached at
   * a given index at most once when the hash entries are.
   */
  private walk(node: TrieNode<T>, words: string[], i: number, out: T[], hashVisits: Set<number>): void {
    const hash = node.hash;
    if (hash) {
      for (let j = i; j <= words.length; j++) {
        const visit = hash.id * (words.length + 1) + j;
        if (hashVisits.has(visit)) continue;
        hashVisits.add(visit);
        this.walk(hash, words, j, out, hashVisits);
      }
    }
    if (i === words.length) {
      for (const value of node.values) out.push(value);
      return;
    }
    const child = node.words.get(words[i] as string);
    if (child) this.walk(child, words, i + 1, out, hashVisits);
    if (node.star) this.walk(node.star, words, i + 1, out, hashVisits);
  }

  private removeAt(node: TrieNode<T>, words: string[], i: number, value: T): boolean {
    if (i === words.length) {
      const at = node.values.indexOf(value);
      if (at >= 0) node.values.splice(at, 1);
      return node.isEmpty();
    }
    const word = words[i] as string;
    if (word === "*") {
      if (node.star && this.removeAt(node.star, words, i + 1, value)) node.star = null;
    } else if (word === "#") {
      if (node.hash && this.removeAt(node.hash, words, i + 1, value)) node.hash = null;
    } else {
      const child = node.words.get(word);
      if (child && this.removeAt(child, words, i + 1, value)) node.words.delete(word);
    }
    return node.isEmpty();
  }
}
