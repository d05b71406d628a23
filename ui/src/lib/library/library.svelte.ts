// The library grid's data: every summary in the chosen order, the facets for
// the filters, and the filters themselves. Search, tag and collection filter
// locally (instant); the order comes from the backend.

import {
  libraryFacets,
  listCharacters,
  type ApiError,
  type CharacterSort,
  type CharacterSummary,
  type LibraryFacets,
} from "../api";
import type { TextKey } from "../i18n/types";
import { filterCharacters } from "./filter";

export type Reporter = (error: ApiError, context?: TextKey) => void;

const NO_FACETS: LibraryFacets = { tags: [], collections: [] };

export class Library {
  /** Every character, in `sort` order. */
  all = $state.raw<readonly CharacterSummary[]>([]);
  facets = $state.raw<LibraryFacets>(NO_FACETS);
  /** True once a list has loaded at least once. */
  loaded = $state(false);
  loading = $state(false);
  failed = $state(false);

  search = $state("");
  sort = $state<CharacterSort>("name");
  tag = $state<string | null>(null);
  collection = $state<string | null>(null);

  visible = $derived(
    filterCharacters(this.all, { search: this.search, tag: this.tag, collection: this.collection }),
  );
  filtered = $derived(this.search.trim() !== "" || this.tag !== null || this.collection !== null);

  #report: Reporter;
  #generation = 0;

  constructor(report: Reporter) {
    this.#report = report;
  }

  /** (Re)loads the list and the facets; a newer load wins over a slower older one. */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    const [list, facets] = await Promise.all([
      listCharacters({ search: "", tag: null, collection: null, sort: this.sort }),
      libraryFacets(),
    ]);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (list.ok) {
      this.all = list.data;
      this.loaded = true;
      this.failed = false;
    } else {
      this.failed = !this.loaded;
      this.#report(list.error, "error.context.loadLibrary");
    }
    if (facets.ok) {
      this.facets = facets.data;
      // A filter whose value no longer exists (deleted, renamed) would hide everything.
      if (this.tag !== null && !facets.data.tags.some((f) => f.name === this.tag)) this.tag = null;
      if (this.collection !== null && !facets.data.collections.some((f) => f.name === this.collection)) {
        this.collection = null;
      }
    }
  }

  setSort(sort: CharacterSort): void {
    if (sort === this.sort) return;
    this.sort = sort;
    void this.load();
  }

  clearFilters(): void {
    this.search = "";
    this.tag = null;
    this.collection = null;
  }

  /** Applies a saved edit to the grid at once, without a reload. */
  patch(summary: CharacterSummary): void {
    this.all = this.all.map((c) => (c.id === summary.id ? summary : c));
  }

  remove(id: string): void {
    this.all = this.all.filter((c) => c.id !== id);
  }
}
