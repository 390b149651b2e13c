"""The lab page: Gradio widgets wired to ``Lab``'s methods, one tab per activity. No logic lives here.

Works offline: no share link, no analytics, system fonts only (the default theme would fetch web fonts).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from spatiallab.report import tables  # noqa: E402
from spatiallab.web import binaries, compare, explore, predict  # noqa: E402
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


def _explore_tab(lab: Lab):
    gr.Markdown("Pick a test image or draw one, then move a 3x3 filter over it. Dense sees a flat list of "
                "numbers; Conv2D sees the grid. Shuffling keeps every pixel but breaks every neighbourhood.")  # fmt: skip
    with gr.Row():
        with gr.Column(scale=1):
            index = gr.Slider(0, len(lab.explore_images) - 1, value=0, step=1, label="sample test image")
            drawing = _sketchpad("explore-sketch")
            use_drawing = gr.Checkbox(False, label="use my drawing instead of the sample")
            kernel = gr.Dropdown([*explore.KERNELS, explore.CUSTOM], value=next(iter(explore.KERNELS)),
                                 label="3x3 filter")  # fmt: skip
            custom = gr.Textbox("1 0 -1\n1 0 -1\n1 0 -1", lines=3, label="custom filter: 9 numbers, row by row (pick 'custom' above)")
            row = gr.Slider(0, 25, value=10, step=1, label="feature-map row", elem_id="row-slider")
            column = gr.Slider(0, 25, value=10, step=1, label="feature-map column")
        with gr.Column(scale=2):
            with gr.Row():
                grid = gr.Plot(label="the grid", show_label=False, elem_id="explore-grid")
                shuffled = gr.Plot(label="shuffled", show_label=False, elem_id="explore-shuffled")
            vector = gr.Plot(label="the flat vector", show_label=False, elem_id="explore-vector")
            maps = gr.Plot(label="feature maps", show_label=False, elem_id="explore-maps")
            arithmetic = gr.Markdown(elem_id="explore-arithmetic")
    gr.Markdown("### Parameters: Dense vs Conv2D on a 28x28x1 image")
    with gr.Row():
        units = gr.Slider(1, 512, value=128, step=1, label="Dense units", elem_id="units-slider")
        filters = gr.Slider(1, 128, value=32, step=1, label="Conv2D filters")
        size = gr.Slider(1, 7, value=3, step=2, label="Conv2D kernel size")
    counts = gr.Markdown(lab.parameter_markdown(128, 32, 3), elem_id="param-count")

    def update(index, drawing, use_drawing, kernel, custom, row, column):
        try:
            image, source = lab.explore_image(index, predict.drawing_image(drawing) if use_drawing else None)
            views = lab.explore(image, kernel, custom, row, column, source)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        return views["grid"], views["shuffled"], views["vector"], views["feature_maps"], views["arithmetic"]

    inputs = [index, drawing, use_drawing, kernel, custom, row, column]
    triggers = [index.change, use_drawing.change, kernel.change, custom.blur, custom.submit, row.change,
                column.change]  # fmt: skip
    gr.on(triggers, update, inputs, [grid, shuffled, vector, maps, arithmetic], trigger_mode="always_last")

    def update_if_drawing(*values):  # strokes only matter when the drawing is the image shown
        return update(*values) if values[2] else (gr.skip(),) * 5

    gr.on([drawing.change], update_if_drawing, inputs, [grid, shuffled, vector, maps, arithmetic],
          trigger_mode="always_last", show_progress="hidden")  # fmt: skip
    gr.on([units.change, filters.change, size.change], lab.parameter_markdown, [units, filters, size], counts,
          show_progress="hidden")  # fmt: skip
    return update, inputs, [grid, shuffled, vector, maps, arithmetic]


def _compare_tab(lab: Lab):
    choices = lab.run_choices()
    with gr.Row():
        run = gr.Dropdown(choices, value=choices[0][1] if choices else None, label=f"runs in {lab.runs_root}",
                          elem_id="run-choice", scale=3)  # fmt: skip
        refresh = gr.Button("refresh list", scale=1)
    verdict = gr.Markdown(elem_id="compare-verdict")
    accuracy = gr.Dataframe(label="test accuracy over seeds", elem_id="compare-accuracy")
    reliance = gr.Dataframe(label="spatial reliance (original - shuffled)")
    with gr.Row():
        bars = gr.Plot(label="accuracy", show_label=False, elem_id="compare-bars")
        curves = gr.Plot(label="learning curves", show_label=False, elem_id="compare-curves")
    settings = compare.QUICK_RUN
    gr.Markdown(f"### Quick run\n{settings['epochs']} epochs, seed {settings['seeds'][0]}, "
                f"{settings['train_limit']:,} training and {settings['test_limit']:,} test images of the bundled "
                f"MNIST sample, models {', '.join(settings['models'])}: about a minute on a laptop CPU.")  # fmt: skip
    quick = gr.Button("Train a quick run", variant="primary", elem_id="quick-run")
    quick_status = gr.Markdown(elem_id="quick-status")

    def show(run_dir):
        if not run_dir:
            return ("No runs yet: train a quick run below, or `spatiallab run`.", _table(tables.accuracy_table({})),
                    _table(tables.reliance_table({})), None, None)  # fmt: skip
        view = compare.run_view(run_dir)
        return (view["verdict"], _table(view["accuracy"]), _table(view["reliance"]), view["bars"], view["curves"])

    def train(progress=gr.Progress()):
        run_dir = compare.quick_run(lab.runs_root, lambda done, text: progress(done, desc=text))
        if lab.run is None:
            lab.use_run(run_dir)
        return gr.Dropdown(choices=lab.run_choices(), value=str(run_dir)), f"Finished: {run_dir}"

    outputs = [verdict, accuracy, reliance, bars, curves]
    run.change(show, run, outputs)
    refresh.click(lambda: gr.Dropdown(choices=lab.run_choices()), None, run)
    quick.click(train, None, [run, quick_status])
    return show, run, outputs


def _try_tab(lab: Lab) -> None:
    source = f"the models of run **{lab.run.name}**" if lab.run else "a quick run's models (train one on Compare)"
    gr.Markdown(f"Predictions of {source}. Draw a digit (white on black, like MNIST) or upload an image (any "
                f"mode: RGBA, LA, palette, 16-bit). Uploads up to {binaries.describe_limit(lab.upload_limit)}.")
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
            raise gr.Error(f"This file cannot be read as an image ({reason}); it has been deleted.") from None
        return *classify(image, dataset, centre), None  # None clears the widget: its file is gone

    outputs = [message, model_input, shuffled_input, *labels.values()]
    draw_button.click(classify_drawing, [drawing, dataset, centre], outputs)
    upload.upload(classify_upload, [upload, dataset, centre], [*outputs, upload])


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
    """The lab page for ``lab``: tabs Explore, Compare, Try it, Binaries (each filled when the page loads)."""
    title = f"spatiallab lab: {lab.run.name}" if lab.run else "spatiallab lab"
    with gr.Blocks(title=title, analytics_enabled=False) as blocks:
        gr.Markdown(f"# {title}\nHow much does a model rely on where the pixels are? Shuffle them and see.")
        with gr.Tabs():
            with gr.Tab("Explore", id="explore"):
                explore_update, explore_inputs, explore_outputs = _explore_tab(lab)
            with gr.Tab("Compare", id="compare"):
                compare_show, run_choice, compare_outputs = _compare_tab(lab)
            with gr.Tab("Try it", id="try"):
                _try_tab(lab)
            with gr.Tab("Binaries", id="binaries"):
                _binaries_tab(lab)
        blocks.load(explore_update, explore_inputs, explore_outputs)
        blocks.load(compare_show, run_choice, compare_outputs)
    return blocks


def launch(blocks: gr.Blocks, host: str, port: int, upload_limit: int) -> None:
    """Serve on ``host:port`` until interrupted (no share link); uploads above ``upload_limit`` bytes are refused
    by Gradio before they are sent, with a message naming the limit."""
    blocks.launch(server_name=host, server_port=port, share=False, max_file_size=upload_limit, theme=THEME,
                  quiet=True, show_error=True, inbrowser=False)  # fmt: skip
