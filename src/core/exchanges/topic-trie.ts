/**
 * Topic matching as RabbitMQ does it: words separated by '.', '*' matches
 * exactly one word, '#' zero or more. A trie with dedicated '*' and '#'
 * children (nats' Sublist shape) plus a bounded cache of results that is
 * dropped on any bind or unbind.
 */
class TrieNode<T> {
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
  private readonly root = new TrieNode<T>();
  private cache = new Map<string, T[]>();

  add(pattern: string, value: T): void {
    let node = this.root;
    for (const word of splitTopic(pattern)) {
      if (word === "*") node = node.star ??= new TrieNode<T>();
      else if (word === "#") node = node.hash ??= new TrieNode<T>();
      else {
        let child = node.words.get(word);
        if (!child) node.words.set(word, (child = new TrieNode<T>()));
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
    this.walk(this.root, splitTopic(key), 0, out);
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(key, out);
    return out;
  }

  private walk(node: TrieNode<T>, words: string[], i: number, out: T[]): void {
    const hash = node.hash;
    if (hash) for (let j = i; j <= words.length; j++) this.walk(hash, words, j, out);
    if (i === words.length) {
      for (const value of node.values) out.push(value);
      return;
    }
    const child = node.words.get(words[i] as string);
    if (child) this.walk(child, words, i + 1, out);
    if (node.star) this.walk(node.star, words, i + 1, out);
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
