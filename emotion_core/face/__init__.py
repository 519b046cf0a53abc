"""Faces: detection (BlazeFace, MTCNN, Haar), the search for faces in a photo, alignment, the expression
predictors (our CNN, seed 002's hybrid), tracking across frames, and the analysis of one photo."""
