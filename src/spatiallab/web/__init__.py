"""The interactive lab (``spatiallab lab``): a Gradio page over plain functions.

    explore.py   the Explore tab's arithmetic (flat vector, 3x3 filter, receptive field, parameter counts)
    predict.py   drawn/uploaded image -> model input; the run's trained models' predictions
    binaries.py  an uploaded executable's byte plot with its sections; the upload deleted afterwards
    compare.py   any run's table and figures; the quick run
    views.py     the Explore tab's figures
    blocks.py    the Explore tab's block shuffles (within and between k x k blocks)
    read.py      the Read tab: what Dense and Conv2D receive, parameter counts computed live
    reflect.py   the Reflect tab: the lesson's closing question, answered from the run's numbers
    lab.py       the state and the work behind each tab (no web framework)
    app.py       the Gradio page wiring ``lab.Lab`` to widgets
    server.py    choosing the run, the private upload folder, serving on 127.0.0.1
"""

# The page's tabs in the lesson's order, {tab id: (label, what it holds)}: ``app.create_app`` builds each of them
# under its label and ``spatiallab lab --help`` lists them from here, so the help cannot name a tab the page lacks.
TABS = {
    "explore": ("Explore", "a 3x3 filter over an image, flat and shuffled; the block shuffles"),
    "read": ("Read", "what Dense and Conv2D see, and their parameter counts"),
    "build": ("Build", "a quick run, then Try it: the run's models on a drawing or upload"),
    "compare": ("Compare", "any run's accuracy table, bars and learning curves"),
    "reflect": ("Reflect", "the lesson's closing question, answered from the run's numbers"),
    "binaries": ("Binaries", "an executable's byte plot with its sections"),
}
