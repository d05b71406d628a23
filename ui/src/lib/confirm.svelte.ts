// In-app confirmation dialogs: `await confirm.ask({...})` answers true or
// false once the user picks. One dialog at a time; ConfirmDialog draws it.

export type ConfirmRequest = {
  title: string;
  body: string;
  confirmLabel: string;
  cancelLabel: string;
  /** Draws the confirm button in the danger colour (delete, discard). */
  danger?: boolean;
};

type Pending = ConfirmRequest & { resolve: (ok: boolean) => void };

export class Confirmer {
  pending = $state.raw<Pending | null>(null);

  ask(request: ConfirmRequest): Promise<boolean> {
    // A newer question supersedes an unanswered one, which counts as "no".
    this.pending?.resolve(false);
    return new Promise((resolve) => {
      this.pending = { ...request, resolve };
    });
  }

  answer(ok: boolean): void {
    const pending = this.pending;
    this.pending = null;
    pending?.resolve(ok);
  }
}
