"""Progress bars for the registry commands, fed by the services' progress callbacks."""

from collections.abc import Callable

from tqdm import tqdm

from apps.registry.models import EvalRun, TrainingRun


def training_bar(bar: tqdm) -> Callable[[TrainingRun], None]:
    """Moves bar to the run's step and shows its latest loss."""

    def show(run: TrainingRun) -> None:
        bar.total = run.progress_total or None
        bar.n = run.progress_step
        if run.loss_curve:
            bar.set_postfix(loss=f"{run.loss_curve[-1]['loss']:.4f}", refresh=False)
        bar.refresh()

    return show


def evaluation_bar(bar: tqdm) -> Callable[[EvalRun], None]:
    def show(run: EvalRun) -> None:
        bar.total = run.progress_total or None
        bar.n = run.progress_done
        bar.refresh()

    return show
