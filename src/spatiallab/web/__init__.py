"""The interactive lab (``spatiallab lab``): a Gradio page over plain functions.

    explore.py   the Explore tab's arithmetic (flat vector, 3x3 filter, receptive field, parameter counts)
    predict.py   drawn/uploaded image -> model input; the run's trained models' predictions
    binaries.py  an uploaded executable's byte plot with its sections; the upload deleted afterwards
    compare.py   any run's table and figures; the quick run
    views.py     the Explore tab's figures
    lab.py       the state and the work behind each tab (no web framework)
    app.py       the Gradio page wiring ``lab.Lab`` to widgets
    server.py    choosing the run, the private upload folder, serving on 127.0.0.1
"""
