"""The lab page: Gradio widgets wired to ``Lab``'s methods, one tab per activity. No logic lives here.

Works offline: no share link, no analytics, system fonts only (the default theme would fetch web fonts).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from spatiallab import transforms  # noqa: E402
from spatiallab.report import tables  # noqa: E402
from spatiallab.web import TABS, binaries, blocks, compare, explore, predict, read, reflect  # noqa: E402
from spatiallab.web.lab import Lab, model_label  # noqa: E402

THEME = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
CANVAS = 280  # pixels of the drawing canvas: 10x the 28x28 model input


def _sketchpad(elem_id: str) -> gr.Sketchpad:
    """A black canvas with a white brush: drawings look like MNIST (light ink on black) with no inversion."""
    black = np.zeros((CANVAS, CANVAS, 3), dtype=np.uint8)
    return gr.Sketchpad(
        value={"background": black, "layers": [], "composite": None}, type="pil", image_mode="RGBA",
        brush=gr.Brush(colors=["#ffffff"], color_mode="fixed", default_size=14), canvas_size=(CANVAS, CANVAS),
        fixed_canvas=True, layers=False, transforms=(), label="draw here", elem_id=elem_id, height=340,
    )  # fmt: skip


def _table(table) -> dict:
    return {"headers": table[0], "data": table[1]}


def _explore_tab(lab: Lab) -> list:
    gr.Markdown(f"Pick a test image of {lab.explore_dataset} or draw one, then move a 3x3 filter over it. Dense "
                "sees a flat list of numbers; Conv2D sees the grid. Shuffling keeps every pixel but breaks every "
                "neighbourhood.")  # fmt: skip
    height, width = lab.explore_shape
    first = next(iter(explore.KERNELS))
    with gr.Row():
        with gr.Column(scale=1):
            index = gr.Slider(0, len(lab.explore_images) - 1, value=0, step=1, label="sample test image")
            drawing = _sketchpad("explore-sketch")
            use_drawing = gr.Checkbox(False, label="use my drawing instead of the sample")
            kernel = gr.Dropdown([*explore.KERNELS, explore.CUSTOM], value=first, label="3x3 filter",
                                 elem_id="kernel-choice")  # fmt: skip
            custom = gr.Textbox(explore.kernel_box(first, "")[0], lines=3, interactive=False, elem_id="kernel-box",
                                label="the filter's 9 numbers, row by row (editable when 'custom' is picked)")
            row = gr.Slider(0, height - 3, value=min(10, height - 3), step=1, label="feature-map row",
                            elem_id="row-slider")  # fmt: skip
            column = gr.Slider(0, width - 3, value=min(10, width - 3), step=1, label="feature-map column")
        with gr.Column(scale=2):
            with gr.Row():
                grid = gr.Plot(label="the grid", show_label=False, elem_id="explore-grid")
                shuffled = gr.Plot(label="shuffled", show_label=False, elem_id="explore-shuffled")
            vector = gr.Plot(label="the flat vector", show_label=False, elem_id="explore-vector")
            maps = gr.Plot(label="feature maps", show_label=False, elem_id="explore-maps")
            arithmetic = gr.Markdown(elem_id="explore-arithmetic")
    sizes = transforms.valid_block_sizes(lab.explore_shape)
    gr.Markdown(f"### At which scale? Shuffle inside k x k blocks, or move the blocks whole\nThe two families of "
                f"`spatiallab scale`, on the image above. k must tile the {height}x{width} image: "
                f"{', '.join(map(str, sizes))}.")  # fmt: skip
    block_size = gr.Slider(1, max(sizes), value=blocks.default_block_size(lab.explore_shape), step=1,
                           label="block size k (moves to the nearest size that tiles the image)",
                           elem_id="block-slider")  # fmt: skip
    with gr.Row():
        block_views = [gr.Plot(label=name, show_label=False, elem_id=f"blocks-{name}")
                       for name in ("original", "within", "between")]  # fmt: skip
    block_text = gr.Markdown(elem_id="blocks-text")

    def image_of(index, drawing, use_drawing):
        return lab.explore_image(index, predict.drawing_image(drawing) if use_drawing else None)

    def update(index, drawing, use_drawing, kernel, custom, row, column):
        try:
            image, source = image_of(index, drawing, use_drawing)
            views = lab.explore(image, kernel, custom, row, column, source)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None  # a typo: the message, no traceback
        return views["grid"], views["shuffled"], views["vector"], views["feature_maps"], views["arithmetic"]

    def update_blocks(index, drawing, use_drawing, block_size):
        shown = lab.explore_blocks(image_of(index, drawing, use_drawing)[0], block_size)
        return shown["block_size"], shown["original"], shown["within"], shown["between"], shown["text"]

    def only_if_drawing(update):  # strokes only matter when the drawing is the image shown
        def guarded(*values):
            return update(*values) if values[2] else (gr.skip(),) * 5

        return guarded

    def show_kernel(choice, text):
        text, editable = explore.kernel_box(choice, text)
        return gr.Textbox(value=text, interactive=editable)

    inputs = [index, drawing, use_drawing, kernel, custom, row, column]
    outputs = [grid, shuffled, vector, maps, arithmetic]
    triggers = [index.change, use_drawing.change, kernel.change, custom.blur, custom.submit, row.change,
                column.change]  # fmt: skip
    gr.on(triggers, update, inputs, outputs, trigger_mode="always_last")
    block_inputs, block_outputs = [index, drawing, use_drawing, block_size], [block_size, *block_views, block_text]
    gr.on([index.change, use_drawing.change, block_size.change], update_blocks, block_inputs, block_outputs,
          trigger_mode="always_last")  # fmt: skip
    for function, function_inputs, function_outputs in ((update, inputs, outputs),
                                                        (update_blocks, block_inputs, block_outputs)):  # fmt: skip
        gr.on([drawing.change], only_if_drawing(function), function_inputs, function_outputs,
              trigger_mode="always_last", show_progress="hidden")  # fmt: skip
    kernel.change(show_kernel, [kernel, custom], custom, show_progress="hidden")
    return [(update, inputs, outputs), (update_blocks, block_inputs, block_outputs)]


def _read_tab() -> None:
    gr.Markdown(read.SEES)
    gr.Markdown("### The parameter arithmetic, from the layer definitions")
    with gr.Row():
        side = gr.Slider(4, 96, value=28, step=1, label="image side (pixels)", elem_id="side-slider")
        channels = gr.Radio([1, 3], value=1, label="channels (1 grey, 3 colour)")
    with gr.Row():
        units = gr.Slider(1, 512, value=128, step=1, label="Dense units", elem_id="units-slider")
        filters = gr.Slider(1, 128, value=32, step=1, label="Conv2D filters")
        size = gr.Slider(1, 7, value=3, step=2, label="Conv2D kernel size")
    counts = gr.Markdown(read.parameter_markdown(28, 1, 128, 32, 3), elem_id="param-count")
    totals = gr.Markdown(read.model_totals_markdown(28, 1), elem_id="model-totals")
    sliders = [side, channels, units, filters, size]
    gr.on([slider.change for slider in sliders], read.parameter_markdown, sliders, counts, show_progress="hidden")
    gr.on([side.change, channels.change], read.model_totals_markdown, [side, channels], totals,
          show_progress="hidden")  # fmt: skip


def _compare_tab(lab: Lab):
    """Compare: one run of the runs folder at a time. The list is read when the page loads, on "refresh list" and
    after a quick run (``listed``), never only when the page is built, so a run trained or copied in since then is
    listed, picked and shown.

    Returns:
        (``listed``, its outputs: the picker then the views, the page-load event as (function, inputs, outputs)).
    """
    with gr.Row():
        run = gr.Dropdown([], value=None, label=compare.picker_label(lab.runs_root), elem_id="run-choice", scale=3)
        refresh = gr.Button("refresh list", scale=1, elem_id="refresh-runs")
    verdict = gr.Markdown(elem_id="compare-verdict")
    accuracy = gr.Dataframe(label="test accuracy over seeds", elem_id="compare-accuracy")
    reliance = gr.Dataframe(label="spatial reliance (original - shuffled)")
    with gr.Row():
        bars = gr.Plot(label="accuracy", show_label=False, elem_id="compare-bars")
        curves = gr.Plot(label="learning curves", show_label=False, elem_id="compare-curves")

    def show(run_dir):
        if not run_dir:
            return ("No runs yet: train a quick run on the Build tab, or `spatiallab run`.",
                    _table(tables.accuracy_table({})), _table(tables.reliance_table({})), None, None)  # fmt: skip
        view = compare.run_view(run_dir)
        return (view["verdict"], _table(view["accuracy"]), _table(view["reliance"]), view["bars"], view["curves"])

    def listed(preferred=None):
        choices, picked = lab.run_picker(preferred)
        return gr.Dropdown(choices=choices, value=picked), *show(picked)

    outputs = [run, verdict, accuracy, reliance, bars, curves]
    run.input(show, run, outputs[1:])  # the visitor's pick; a pick made by ``listed`` comes with its views
    refresh.click(listed, run, outputs)
    return listed, outputs, (listed, None, outputs)


def _build_tab(lab: Lab):
    """Build: train a quick run, then try the run's models on a drawing or an upload."""
    settings = compare.QUICK_RUN
    gr.Markdown(f"### Train a quick run\n{settings['epochs']} epochs, seed {settings['seeds'][0]}, "
                f"{settings['train_limit']:,} training and {settings['test_limit']:,} test images of the bundled "
                f"MNIST sample, models {', '.join(settings['models'])}, on original and shuffled pixels: about a "
                "minute on a laptop CPU. Without a run, the lab uses it from then on.")  # fmt: skip
    quick = gr.Button("Train a quick run", variant="primary", elem_id="quick-run")
    quick_status = gr.Markdown(elem_id="quick-status")
    gr.Markdown("### Try it")
    intro = gr.Markdown(lab.try_intro(), elem_id="try-intro")
    datasets = lab.datasets()
    with gr.Row():
        dataset = gr.Dropdown(datasets, value=datasets[0], label="dataset", visible=len(datasets) > 1)
        centre = gr.Checkbox(True, label="centre and scale like MNIST (greyscale datasets)")
    with gr.Row():
        with gr.Column():
            drawing = _sketchpad("try-sketch")
            draw_button = gr.Button("Predict my drawing", variant="primary", elem_id="predict-drawing")
        with gr.Column():
            upload = gr.Image(type="filepath", image_mode=None, sources=["upload"], label="or upload an image",
                              elem_id="try-upload", height=340)  # fmt: skip
    message = gr.Markdown(elem_id="try-message")
    with gr.Row():
        model_input = gr.Image(label="what the original-pixel models see", elem_id="try-input", height=200)
        shuffled_input = gr.Image(label="what the shuffled-pixel models see", elem_id="try-shuffled", height=200)
    labels = {}
    with gr.Row():
        for key in lab.prediction_keys():
            labels[model_label(*key)] = gr.Label(num_top_classes=3, label=model_label(*key),
                                                 elem_classes=["prediction"])  # fmt: skip

    def classify(image, dataset, centre):
        result = lab.classify(image, dataset, centre)
        return (result["message"], result["input"], result["shuffled_input"],
                *[result["predictions"].get(label) for label in labels])  # fmt: skip

    def classify_drawing(value, dataset, centre):
        return classify(predict.drawing_image(value), dataset, centre)

    def classify_upload(path, dataset, centre):  # the upload is read, then deleted at once, as on the Binaries tab
        try:
            image = predict.read_upload(path, lab.upload_root) if path else None
        except OSError as error:
            reason = type(error).__name__
            raise gr.Error(f"This file cannot be read as an image ({reason}); it has been deleted.",
                           print_exception=False) from None
        return *classify(image, dataset, centre), None  # None clears the widget: its file is gone

    outputs = [message, model_input, shuffled_input, *labels.values()]
    draw_button.click(classify_drawing, [drawing, dataset, centre], outputs)
    upload.upload(classify_upload, [upload, dataset, centre], [*outputs, upload])
    return quick, quick_status, intro


def _wire_quick_run(lab: Lab, quick, status, intro, listed, compare_outputs) -> None:
    """The quick run (Build) is listed, picked and shown on Compare (``listed``) and, when the lab had no run,
    becomes the lab's run."""

    def train(progress=gr.Progress()):
        run_dir = compare.quick_run(lab.runs_root, lambda done, text: progress(done, desc=text))
        if lab.run is None:
            lab.use_run(run_dir)
        return *listed(str(run_dir)), f"Finished: {run_dir}", lab.try_intro()

    quick.click(train, None, [*compare_outputs, status, intro])


def _reflect_tab(lab: Lab) -> None:
    gr.Markdown(f"### Think it through\n{reflect.QUESTION}")
    gr.Textbox(lines=5, label="your answer (it stays in this browser: nothing is stored or sent)",
               elem_id="reflect-answer")  # fmt: skip
    button = gr.Button("Show what the run measured", variant="primary", elem_id="reflect-show")
    answer = gr.Markdown(elem_id="reflect-measured")
    scale = gr.Markdown(elem_id="reflect-scale")
    figure = gr.Plot(label="scale curve", show_label=False, visible=False, elem_id="reflect-curve")

    def show():
        shown = lab.reflect()
        curve = shown["scale_figure"]
        return shown["answer"], shown["scale"], gr.Plot(value=curve, visible=curve is not None)

    button.click(show, None, [answer, scale, figure])  # the answer box is no input: its text never leaves the page


def _binaries_tab(lab: Lab) -> None:
    limit = binaries.describe_limit(lab.upload_limit)
    gr.Markdown(f"Upload an executable (PE, ELF or Mach-O; any other file gives a plain byte plot). "
                f"**Size limit: {limit}**; larger files are refused. The file is only read, never run; it is kept "
                f"in a temporary folder and deleted as soon as it is drawn.", elem_id="binaries-limit")  # fmt: skip
    message = gr.Markdown(elem_id="binaries-message")
    upload = gr.File(label="executable", type="filepath", elem_id="binaries-upload")
    plot = gr.Image(label="byte plot with sections", elem_id="binaries-plot")

    def draw(path):
        text, figure = lab.byte_plot(path)
        return text, figure, None

    upload.upload(draw, upload, [message, plot, upload])


def create_app(lab: Lab) -> gr.Blocks:
    """The lab page for ``lab``, its tabs those of ``web.TABS`` in that order. The heading, the Try-it intro, the
    views and Compare's run list are filled when the page loads, so a reload shows the lab's run and the runs folder
    as they are now (a quick run trained from the page included)."""
    builders = {"explore": _explore_tab, "read": lambda _lab: _read_tab(), "build": _build_tab,
                "compare": _compare_tab, "reflect": _reflect_tab, "binaries": _binaries_tab}  # fmt: skip
    built = {}
    with gr.Blocks(title=lab.title(), analytics_enabled=False) as page:
        heading = gr.Markdown(lab.heading(), elem_id="lab-heading")
        with gr.Tabs():
            for key, (label, _) in TABS.items():
                with gr.Tab(label, id=key):
                    built[key] = builders[key](lab)
        quick, quick_status, try_intro = built["build"]
        listed, compare_outputs, compare_loader = built["compare"]
        _wire_quick_run(lab, quick, quick_status, try_intro, listed, compare_outputs)
        loaders = [*built["explore"], (lab.heading, None, heading), (lab.try_intro, None, try_intro), compare_loader]
        for function, inputs, outputs in loaders:
            page.load(function, inputs, outputs)
    return page


def launch(blocks: gr.Blocks, host: str, port: int, upload_limit: int) -> None:
    """Serve on ``host:port`` until interrupted (no share link); uploads above ``upload_limit`` bytes are refused
    by Gradio before they are sent, with a message naming the limit."""
    blocks.launch(server_name=host, server_port=port, share=False, max_file_size=upload_limit, theme=THEME,
                  quiet=True, show_error=True, inbrowser=False)  # fmt: skip
